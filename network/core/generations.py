"""Data generations: a token per group of tables that the database's own triggers replace in every transaction writing
them, so that an answer computed from those tables can be kept per process and known to be current from one column
read with the rows a page reads anyway (as Elasticsearch's shard request cache is keyed by the index's state).

`data_generations` holds one row per name (migration 7f3e2a9c1b40): triggers on each table of a name (PostgreSQL: one
per statement; SQLite: one per row) set its value to a new random 62-bit number whenever a row is inserted, updated
or deleted, by any writer (a service, a raw SQL UPDATE, the search indexer) and in the writer's own transaction: a
reader sees the new value exactly when it sees the rows changed. A random value rather than a counter: a copy of a
database (tests start from one template; a restored backup), a table emptied with its triggers off, or a transaction
that computed an answer from its own writes and then rolled back never leave an old value beside other rows, barring
odds of one in 2^52 per change. A name without a row reads NULL and nothing is kept under it (PostgreSQL's trigger
inserts the row again at the next write, as after the tests empty every table; SQLite's only updates it: an INSERT OR
REPLACE in a trigger would take the conflict policy of the statement that fired it).

The names and their tables (the migration installs the triggers; a table a kept answer comes to read is added there
and here):

- CATALOGUE: `cases`, `case_facets` (the catalogue's listing: its rows, facet counts and totals);
- CASE_SEARCH: `case_search`, `search_words` (PostgreSQL's case engine: its matches, ranking, corrections; the
  bounds of `search_lexeme_bounds` are written by triggers of `case_search`, in the same statements).

`KeptAnswers` is the per-process cache of such answers: bounded, least recently used first out, thread-safe; an
entry is (the generations it was computed at, the answer), and the caller compares the generations it reads now.
The generations an answer is kept under must be read no later than the data it was computed from (the same
statement, or one before it): a value read earlier can only make a later reader miss, never serve an old answer."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable

from sqlalchemy import BigInteger, String, select
from sqlalchemy.orm import Mapped, mapped_column

from network.core.db import db

CATALOGUE = "catalogue"
CASE_SEARCH = "case_search"
TABLES = {CATALOGUE: ("cases", "case_facets"), CASE_SEARCH: ("case_search", "search_words")}


class DataGeneration(db.Model):
    """The current generation of a group of tables (see the module's docstring); written only by triggers."""

    __tablename__ = "data_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)

    def __repr__(self) -> str:
        return f"<DataGeneration {self.name}>"


def generation_column(name: str):
    """A column for any SELECT: the current generation of `name` (an uncorrelated scalar subquery, evaluated once per
    statement, in the statement's own snapshot; NULL when the name has no row)."""
    return select(DataGeneration.value).where(DataGeneration.name == name).scalar_subquery()


def generation_columns(names: Iterable[str]) -> list:
    return [generation_column(name).label(f"generation_{n}") for n, name in enumerate(names)]


def read_generations(names: tuple[str, ...]) -> tuple[int | None, ...]:
    """The current generations of `names`, in one statement (for an answer about to be computed without a statement
    of its own that could read them)."""
    row = db.session.execute(select(*generation_columns(names))).one()
    return tuple(row)


def usable(generation: tuple) -> bool:
    """Whether an answer may be kept under (or taken for) these generations: every one known."""
    return None not in generation


class KeptAnswers:
    """Answers kept per process under a request's key with the generations they were computed at (see the module's
    docstring): at most `size` entries, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[tuple, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[tuple, object] | None:
        """(generations, answer) kept under `key`, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, generation: tuple, answer: object) -> None:
        """Keep `answer` under `key`, computed at `generation` (read no later than its data); nothing is kept when a
        generation is unknown."""
        if not usable(generation):
            return
        with self._lock:
            self._entries[key] = (generation, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
