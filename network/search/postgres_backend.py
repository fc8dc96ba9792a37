"""The PostgreSQL search backend: a weighted tsvector per case in case_search (GIN-indexed), queried with tsquery
built from bound parameters only (never text pasted into SQL), ranked by ts_rank.

Each language version of a case is analysed with its own text search configuration (english, french, spanish,
russian) and with "simple" (no stemming: prefixes, names, other languages); a query word is looked up under every
configuration. Accents are folded in Python before PostgreSQL sees the text, exactly as the Whoosh backend folds
them, so both engines agree and no extension (unaccent) is needed. The index lives in the database: changes are
transactional, and any number of app servers and writers share it.

Reading a page (issue 11): one selection per request. The matches are found through the GIN index on `document`
(never filtered row by row against that TOASTed vector); the reader's scope, the facet filters and a sample bucket
are lexemes of `document` too (selector_lexemes), so that counting and selecting is one condition of that index;
the total is exact up to EXACT_TOTAL matches and the facet counts up to EXACT_FACETS, both estimated from a sample
above (SearchHits.total_exact, facets_exact); only the page is ranked.
Where the rum extension is installed (migration 5e4c0b0a1d12), the best candidates come in rank order straight from
a RUM index on `rank_document` (`<=>`: the rank is computed from positions and weights stored in the index, no row
is read to rank it), and only those get the full score; without it, ts_rank picks them over the matching rows (the
GIN path)."""
from __future__ import annotations

import functools
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import reduce

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG, TSQUERY, TSVECTOR, array
from sqlalchemy.exc import OperationalError

from network.core.clock import utcnow
from network.core.generations import CASE_SEARCH
from network.search import query as ql
from network.search.backend import (
    ANONYMOUS,
    ENGINE_FILTERS,
    IndexWriter,
    Matches,
    SearchBackend,
    SearchHits,
    Viewer,
)
from network.search.documents import (
    COORDINATION,
    FIELD_GROUPS,
    PG_CONFIGS,
    PROXIMITY,
    STEMMED_LANGUAGES,
    STEMMING_ACCENTS,
    SearchDocument,
    fold,
    segmented,
    stemming_input,
)
from network.search.engine_models import CaseSearch, SearchWord

# setweight's second argument is of type "char": constant SQL literals from this table, never user input.
LETTERS = {"title": "A", "keywords": "B", "summary": "C", "body": "D"}
QUERY_CONFIGS = tuple(PG_CONFIGS[lang] for lang in (*STEMMED_LANGUAGES, "simple"))
# The language of each stemming configuration: its text and query words are given as its stemmer needs them
# (documents.stemming_input: "incautacion" -> "incautación", so Snowball's accented suffixes apply).
CONFIG_LANGUAGES = {config: lang for lang, config in PG_CONFIGS.items() if lang in STEMMED_LANGUAGES}
OWN_INPUT_CONFIGS = tuple(config for config, lang in CONFIG_LANGUAGES.items() if lang in STEMMING_ACCENTS)
LOCK_KEY = 0x5EA4C4  # pg_advisory_xact_lock key of the indexer: one writer at a time
BATCH = 500


def _config(name: str):
    """A configuration as a constant of the statement ('english'::regconfig), never a bound parameter: the cast of
    a parameter to regconfig is a stable function, which the planner does not fold, so every tsquery built on it
    was computed again for every row matched and ranked (a third of a query's time at 100,000 cases)."""
    if name not in QUERY_CONFIGS:
        raise ValueError(f"unknown text search configuration {name!r}")
    return literal_column(f"'{name}'::regconfig", REGCONFIG)


# One fixed-shape statement for every document: a text per (configuration, field group) slot, empty when the
# case has nothing there, and the synonym tokens as an array; executed for a whole batch at once (executemany),
# so PostgreSQL parses and plans it once. Configuration names and weight letters are constants of this module.
SLOTS = tuple((config, group) for config in QUERY_CONFIGS for group in FIELD_GROUPS)
# The ranking vector (rank_document): ts_rank reads the whole vector of every matching row, and `document` (every
# version stemmed and again unstemmed, the long obstacles/solutions/lessons included) is TOASTed, so each row
# ranked cost a TOAST fetch and a decompression. Ranking reads a vector a few times smaller instead, kept in the
# row: title, keywords and summary, each version analysed once, in its own configuration (the stemmed text slots,
# and "own_simple" for languages without a stemmer), and the synonym tokens. Obstacles, solutions and lessons
# (weight D, a tenth of the title's) still find cases; they no longer order them.
RANK_GROUPS = ("title", "keywords", "summary")
_STEMMING = QUERY_CONFIGS[:-1]  # every configuration but "simple" (the last)


def _slot(config: str, group: str, param: str | None = None) -> str:
    """A slot's vector: its text analysed in `config`, weighted by its field group's letter."""
    return f"setweight(to_tsvector('{config}'::regconfig, :{param or f'{config}_{group}'}), '{LETTERS[group]}')"


# Each stemming configuration's title, keywords and summary, analysed once for both vectors: `document` holds them
# followed by the body, `rank_document` holds them alone (the same vectors, in the same order, as analysing them twice
# gave: `||` shifts each right operand's positions by the left's last). Analysing them twice was a third of a
# rebuild's inserts (10,000 cases: 4.9 of 12.8 s). OFFSET 0 keeps the planner from copying the expressions into
# both columns, which would analyse them twice again.
_RANKED_SLOTS = ", ".join(" || ".join(_slot(config, group) for group in RANK_GROUPS) + f" AS {config}"
                          for config in _STEMMING)
_SLOT_SQL = " || ".join([f"r.{config} || {_slot(config, 'body')}" for config in _STEMMING]
                        + [_slot("simple", group) for group in FIELD_GROUPS])
_RANK_SQL = " || ".join([f"r.{config}" for config in _STEMMING]
                        + [_slot("simple", group, f"own_simple_{group}") for group in RANK_GROUPS])
_SYNONYMS_SQL = "setweight(array_to_tsvector(CAST(:synonyms AS text[])), 'B')"
# In the ranking vector each synonym lexeme has a position (1, weight D): RUM scores a row whose matching lexeme has
# no position as 0 (the cover it looks for needs positions), so a case found through a synonym was never a
# candidate. ts_rank reads a lexeme without positions as one occurrence of weight D (its fixed "position 0"), so
# its rank is what it was. setweight() had no effect on lexemes without positions.
_RANK_SYNONYMS_SQL = "CAST(:rank_synonyms AS tsvector)"
# The selector lexemes of `document` (selector_lexemes): no position, no weight (never ranked: rank_document has none).
_SELECTORS_SQL = "array_to_tsvector(CAST(:selectors AS text[]))"
UPSERT = text(f"""
INSERT INTO case_search (case_id, status, visibility, submitter_id, reviewer_id, filed_on, year, facets, document,
                         rank_document, indexed_at)
SELECT CAST(:case_id AS integer), CAST(:status AS varchar(20)), CAST(:visibility AS varchar(10)),
       CAST(:submitter_id AS integer), CAST(:reviewer_id AS integer), CAST(:filed_on AS date), CAST(:year AS integer),
       CAST(:facets AS varchar(60)[]),
       {_SLOT_SQL} || {_SYNONYMS_SQL} || {_SELECTORS_SQL},
       {_RANK_SQL} || {_RANK_SYNONYMS_SQL},
       CAST(:indexed_at AS timestamp)
FROM (SELECT {_RANKED_SLOTS} OFFSET 0) AS r
ON CONFLICT (case_id) DO UPDATE SET status = excluded.status, visibility = excluded.visibility,
    submitter_id = excluded.submitter_id, reviewer_id = excluded.reviewer_id, filed_on = excluded.filed_on,
    year = excluded.year, facets = excluded.facets, document = excluded.document,
    rank_document = excluded.rank_document, indexed_at = excluded.indexed_at
""")  # noqa: S608 (only this module's constants are formatted in: configurations, field groups, letters)
# Planner setting for the statements of a text query (restored after each, within the transaction). The same round
# trip reads the table's size (pg_class.reltuples): below SMALL_TABLE rows the setting is not made (_through_index),
# as a scan of so few rows costs no more than the index and the two round trips cost more. A table never analysed
# (reltuples -1: autovacuum analyses a table only after 50 changed rows, so a small catalogue may never be) has its
# rows counted instead, up to SMALL_TABLE only: such a table had the setting made, and restored, on every search.
SMALL_TABLE = 200
# (and per-run plans for the search's statements, within its transaction: a connection plans prepared statements
# once, network/core/db.GENERIC_PLANS, and a search's plan depends on its words)
# work_mem of a search's statements (the server's default is 4MB): the matches _facets_and_page keeps (up to 10,001
# rows of facet tokens, about 3.5 MB) spilled to a temporary file; a bitmap of many matches stays exact.
READING_WORK_MEM = "16MB"
SEQSCAN_OFF = text("SELECT current_setting('enable_seqscan'), current_setting('work_mem'), "
                   "set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'auto', true), "
                   "set_config('work_mem', :work_mem, true), "
                   "(SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE CAST(coalesce(array_length(ARRAY("
                   "SELECT 1 FROM case_search LIMIT :small), 1), 0) AS real) END "
                   "FROM pg_class c WHERE c.oid = to_regclass('case_search'))")
_ROWS: dict[str, tuple[float, float]] = {}  # database URL -> (read at, case_search's reltuples), for STATS_SECONDS
SEQSCAN_SET = text("SELECT set_config('enable_seqscan', :value, true)")
SEQSCAN_RESTORE = text("SELECT set_config('enable_seqscan', :previous, true), "
                       "set_config('work_mem', :memory, true)")
READING = "search_reading"  # session.info key of PostgresBackend.reading(): the setting to restore, words looked up
# The analysed alternatives of words and phrases (PostgresBackend._analysed): tsquery text PostgreSQL wrote itself.
_ANALYSED: dict[tuple[str, str], tuple[str, ...]] = {}
ANALYSED_MAX = 50_000
NOTHING = "'~'"  # a lexeme no document holds (synonym lexemes are "~" and a group name): a word that analyses to nothing
RANK_CANDIDATES = 200  # above FULLY_RANKED matches, the best this many (or five pages) by ts_rank get the full score
# The candidates of a page of many matches (the RUM index's order, the first of the two phases) are picked by the rank
# of at most this many items (lexemes, prefixes) of the query's concepts, the rarest concepts first: both rank every
# match for every item, so a pasted paragraph (24 concepts of common words, about 70 items) took 1.2-1.7 s at 100,000
# cases where "court order account" (5 items) takes 60 ms. The full score of the candidates counts every concept.
CANDIDATE_ITEMS = 16
CANDIDATE_PREFIX_ITEMS = 4  # a prefix counts as this many items: it ranks every lexeme it begins
FULLY_RANKED = 1000  # up to this many matches (or five pages), every match gets the full score: exact, and the
# same page on every run (above, the candidates are the best by one unweighted rank, and which of its ties make the
# cut follows the table's physical order: a question of 229 matches in the evaluation set moved by 0.2 nDCG from one
# table to the next); ranking a thousand rows costs a few milliseconds
# With filters, the RUM index hands candidates over in rank order among every text match and each is then checked
# against the filters: a filter keeping few of the text's matches makes it read many rows to find its candidates
# (134 matches of 84,000: every one read, 1.6 s). Below this many matches ts_rank over the matches costs less.
RUM_MIN_FILTERED = 2000
# ... and only when the filters keep at least this share of the text's matches (estimated from the lexeme statistics):
# the RUM index ranks every text match (about 4-8 us each under load) where ts_rank over the filtered matches, selected
# in the GIN index, costs about 30 us each. Measured on the kept 100,000-case table: "bank records" in French or
# Russian (23,600 of about 68,000: 0.35) 266 ms by RUM against 653 ms; "MLA bank records" with one crime type (5,800
# of about 90,000: 0.06) 593 ms against 188 ms; "central authority draft" with two filters (16,000 of 95,000)
# 760 against 569 ms (load average 13).
RUM_MIN_SHARE = 0.2
# Max-score pruning (PostgresBackend._max_score_top): a concept expected in at most this many rows is rare; the matches
# holding a rare concept are scored in full (about 20-40 us each) when the others cannot reach the page.
MAX_SCORE_ROWS = 4000
MAX_SCORE_MARGIN = 1e-5  # ts_rank is a float4: a bound in double precision beaten by this much more
# Weight tiers (PostgresBackend._tier_top; migration 5e4c0b0a1d1a): GIN indexes on the ranking vector's title lexemes
# (weight A) and on its title and keyword lexemes (A and B), and BOUNDS_TABLE, each lexeme's largest ts_rank alone in
# all but the title of any ranking vector (bound_below_a) and in its summary and synonyms (bound: weights C, D), kept
# by triggers. A match holding none of the query's words in its tier scores at most what their bounds add up to; the
# matches of the tier (a few percent of a common word's) are scored in full, up to TIER_ROWS of them: the title's
# first, the wider tier when that is not enough. (name, index, the tier's weights, the bound of the rest)
TIERS = (("title", "ix_case_search_rank_title", "{a}", "bound_below_a"),
         ("title and keywords", "ix_case_search_rank_tier", "{a,b}", "bound"))
BOUNDS_TABLE = "search_lexeme_bounds"
TIER_ROWS = 4000
# A tier row is fetched, decompressed and scored in full (about 25-35 us under load), where the RUM index reads a
# posting's rank (about 1.5 us) and the GIN path's ts_rank reads a row's vector: the tiers are read when they are
# expected to hold fewer rows than the text matches RUM would rank over TIER_COST, or half the matches the GIN path
# would rank ("blanchiment": 1,018 title holders of 1,648 matches, 57 ms by RUM against 80 by the tier).
TIER_COST = 15
# _tier_phase_top: the two phases' candidates taken from the tier of titles and keywords where it is expected to hold
# at most this share of the text's matches
TIER_PHASE_SHARE = 0.25
TIER_PHASE_ROWS = 3000  # ... and at most this many of the matches: each is fetched and ranked (about 4 us)
BOUND_WEIGHTS = (0.1, 0.2, 0.4, 1.0)  # the weights the bounds were computed with (the migration's)
HAS_TIERS = text("SELECT to_regclass(:title) IS NOT NULL AND to_regclass(:tier) IS NOT NULL "
                 "AND to_regclass(:table) IS NOT NULL")
LEXEME_BOUNDS = text("SELECT lexeme, bound_below_a, bound FROM search_lexeme_bounds "
                     "WHERE lexeme = ANY(CAST(:lexemes AS text[]))")
_TIERS: dict[str, bool] = {}  # database URL -> whether the tiers' indexes and BOUNDS_TABLE exist there
EMPTY_BOUNDS = text("DELETE FROM search_lexeme_bounds")
# The lexeme statistics ANALYZE keeps for an expression index (how many rows a tier holds: TIER_ROWS)
TIER_STATS = text("SELECT CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs, c.reltuples "
                  "FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass('case_search') "
                  "WHERE s.schemaname = current_schema() AND s.tablename = :index")
_PI2_6 = math.pi ** 2 / 6
_CALC_RANK_OR_SCALE = 1.64493406685  # PostgreSQL's calc_rank_or divides by this (its pi^2 / 6)
# Impact-ordered lists (PostgresBackend._impact_top; migration d8e2f5a1c6b9): for each lexeme of the ranking vectors
# held by more than IMPACT_LIST_MIN cases when the lists were made (a rebuild), its holders in the order (its rank
# alone in their vector, filed_on, case_id) descending, at least the first IMPACT_LIST_KEEP, and its cut: every case
# whose key reaches the cut is listed (triggers on case_search keep it so). The first IMPACT_READ of each of a query's
# lists are read; a case found there or holding an unlisted lexeme (a rare one: all its holders are read) may be
# scored in full, and any other case ranks at most as the lists' last keys allow (the threshold algorithm).
IMPACTS_TABLE, IMPACT_CUTS_TABLE = "search_impacts", "search_impact_cuts"
IMPACT_WEIGHTS = (0.1, 0.2, 0.4, 1.0)  # the weights the lists were ranked with (the migration's)
IMPACT_LIST_MIN = 50  # the migration's LIST_MIN: a lexeme held by fewer is read whole (at most this many holders)
IMPACT_LIST_KEEP = 500  # the migration's LIST_KEEP
IMPACT_READ = 200  # the first rows of each list read
IMPACT_SCORED = 400  # at most this many cases scored in full
# When the lists cannot prove the page, the best of the cases scored is the page (their order: _impact_top's `likely`)
IMPACT_BEST_EFFORT = True
IMPACT_UNLISTED = 2000  # an unlisted lexeme expected in more rows than this (made common since): the usual paths rank
HAS_IMPACTS = text("SELECT to_regclass(:impacts) IS NOT NULL AND to_regclass(:cuts) IS NOT NULL")
_IMPACTS: dict[str, bool] = {}  # database URL -> whether IMPACTS_TABLE and IMPACT_CUTS_TABLE exist there
# Each listed lexeme's cut and the first :rows of its list (a list emptied by deletes: its cut alone)
# (an unknown date is listed as -infinity, which no Python date can hold: read as NULL, the earliest date here)
IMPACT_LISTS = text(
    "SELECT c.lexeme, c.impact, nullif(c.filed_on, '-infinity'::date), c.case_id, "  # noqa: S608 (constants)
    "l.impact, nullif(l.filed_on, '-infinity'::date), l.case_id "
    f"FROM {IMPACT_CUTS_TABLE} c LEFT JOIN LATERAL (SELECT i.impact, i.filed_on, i.case_id FROM {IMPACTS_TABLE} i "
    "WHERE i.lexeme = c.lexeme ORDER BY i.impact DESC, i.filed_on DESC, i.case_id DESC LIMIT :rows) l ON true "
    "WHERE c.lexeme = ANY(CAST(:lexemes AS text[]))")
EMPTY_IMPACTS = (text(f"DELETE FROM {IMPACTS_TABLE}"), text(f"DELETE FROM {IMPACT_CUTS_TABLE}"))  # noqa: S608
_LEXEME_QUERY = r"CAST('''' || replace(replace(u.lexeme, '\', '\\'), '''', '''''') || '''' AS tsquery)"
_IMPACT_WEIGHTS_SQL = "'{" + ",".join(f"{w:g}" for w in IMPACT_WEIGHTS) + "}'::float4[]"
# (each vector copied out of TOAST once, `|| ''`, not once per lexeme ranked; lexemes grouped by their bytes, "C")
MAKE_IMPACT_LISTS = text(
    f"INSERT INTO {IMPACTS_TABLE} (lexeme, impact, filed_on, case_id) "  # noqa: S608 (constants of this module)
    "SELECT lexeme, impact, filed_on, case_id FROM ("
    "SELECT lexeme, impact, filed_on, case_id, row_number() OVER (PARTITION BY lexeme COLLATE \"C\" "
    "ORDER BY impact DESC, filed_on DESC, case_id DESC) AS n FROM ("
    f"SELECT u.lexeme, ts_rank({_IMPACT_WEIGHTS_SQL}, r.v, {_LEXEME_QUERY}) AS impact, "
    "coalesce(r.filed_on, '-infinity'::date) AS filed_on, r.case_id "
    "FROM (SELECT case_id, filed_on, rank_document || ''::tsvector AS v FROM case_search OFFSET 0) r, unnest(r.v) u "
    "WHERE u.lexeme IN (SELECT word FROM ts_stat('SELECT rank_document FROM case_search') "
    f"WHERE ndoc > {IMPACT_LIST_MIN})) p) ranked WHERE n <= {IMPACT_LIST_KEEP}")
MAKE_IMPACT_CUTS = text(
    f"INSERT INTO {IMPACT_CUTS_TABLE} (lexeme, impact, filed_on, case_id) "  # noqa: S608 (constants of this module)
    f"SELECT DISTINCT ON (lexeme) lexeme, impact, filed_on, case_id FROM {IMPACTS_TABLE} "
    "ORDER BY lexeme, impact, filed_on, case_id")


def _item_bound(weights: tuple[float, ...]) -> float:
    """The most ts_rank (normalization 0) gives one query item found once in a vector: PostgreSQL's calc_rank_or adds,
    for the entry of a lexeme, (wjm + sum(w_j / (j + 1)^2) - wjm / (jm + 1)^2) / 1.64493406685 over its positions j,
    wjm the greatest weight, first met at jm; all positions at the top weight give top * pi^2/6, a greater weight
    first met at jm >= 1 (every earlier one at most the next weight) top * (1 + pi^2/6) - (top - next) * H(jm) -
    top / (jm + 1)^2, H(n) the sum of 1/i^2 up to n. It divides the sum over the query's items by their number, so
    a concept's rank is at most this; calc_rank_and (a phrase's words) gives at most 1."""
    top = max(weights)
    below = max((w for w in weights if w < top), default=0.0)
    best, harmonic = top * _PI2_6, 0.0
    for jm in range(1, 10_000):
        harmonic += 1.0 / (jm * jm)
        best = max(best, top * (1 + _PI2_6) - (top - below) * harmonic - top / ((jm + 1) * (jm + 1)))
    return max(best / 1.64493406685, 1.0)



def _as_tsquery(text_: str):
    """tsquery input text as a tsquery: one bound parameter, cast."""
    return cast(literal(text_, String), TSQUERY)


def _value(name: str, values: Mapping[str, object], type_):
    """A value of a search's statements as a parameter named by its role (VALUE_NAMES), bound to its value in
    `values`: a statement kept per shape of search (PostgresBackend._shape) is run with another search's values
    under the same names (PostgresBackend._values), so that it is built, keyed and compiled once per shape."""
    return bindparam(name, values[name], type_=type_)


# A rank of more than RANK_PADDED_FROM concepts (synonym groups, pairs) is built for the next number of RANK_PADDED,
# the rest of weight 0 and held by no row (PostgresBackend._rank_plan): a question's five to eight concepts, a few
# groups and pairs made a shape of their own nearly every time, built and compiled anew (at 10,000 cases, 70 of a
# question's 177 ms the first time). The ranks of the padding cost about a microsecond a row scored.
RANK_PADDED_FROM = 4
RANK_PADDED = (6, 8, 12, 16, 24, 32, 48, 64)


def _padded(count: int) -> int:
    """`count` (of concepts, synonym groups or pairs) as a rank's shape holds it: itself up to RANK_PADDED_FROM, above
    the next of RANK_PADDED (or itself, above them all)."""
    if count <= RANK_PADDED_FROM:
        return count
    return next((size for size in RANK_PADDED if size >= count), count)


def _tsquery_value(name: str, values: Mapping[str, object]):
    """A named value (_value) of tsquery input text, cast."""
    return cast(_value(name, values, String), TSQUERY)


def _in_memory(vector):
    """A TOASTed vector fetched and decompressed once, as a copy in memory (`|| ''`): a score names the vector six or
    seven times, and each mention of the column itself fetched and decompressed it again (about 20 buffers a row
    ranked; the copy, made in a subquery that is kept apart, serves every mention)."""
    return vector.op("||")(cast(literal("", String), TSVECTOR))


def _has_prefix(node) -> bool:
    if isinstance(node, ql.Term):
        return node.prefix
    if isinstance(node, ql.Not):
        return _has_prefix(node.item)
    if isinstance(node, (ql.And, ql.Or)):
        return any(_has_prefix(item) for item in node.items)
    return False


def _additive(node) -> bool:
    """Whether a concept's rank tsquery (compile(ranking=True)) is ranked by calc_rank_or over plain lexemes: its
    score is then the sum of its lexemes' ranks (_tier_split). A phrase or an AND alone is ranked by calc_rank_and; a
    prefix matches lexemes the bounds cannot name."""
    if isinstance(node, ql.Term):
        return not node.prefix
    if isinstance(node, ql.Synonym):
        return True
    if isinstance(node, ql.Or):
        items = ql.without_redundant_phrase(node, True)
        if len(items) == 1:
            return _additive(items[0])
        return all(isinstance(item, (ql.Phrase, ql.Synonym)) or (isinstance(item, ql.Term) and not item.prefix)
                   for item in items)
    return False


def _implies_match(node) -> bool:
    """Whether a row whose ranking vector holds a lexeme of the query's rank holds a match of the query: any-word
    queries of terms and synonym groups (rank_document's lexemes are among document's; a phrase's words are not the
    phrase, and NOT or a required word may refuse the row)."""
    if isinstance(node, ql.Term):
        return not node.prefix
    if isinstance(node, ql.Synonym):
        return True
    if isinstance(node, ql.Or):
        return all(_implies_match(item) for item in ql.without_redundant_phrase(node, True))
    return False


def _concepts_match(query: ql.Query) -> bool:
    """Whether a row whose ranking vector holds a lexeme of any of the query's concepts holds a match of the query:
    an any-word query (_implies_match) whose concepts are its alternatives ("+bank records" ranks by "records" but
    matches "bank" only)."""
    root = query.root
    if not _implies_match(root):
        return False
    if len(query.concepts) == 1:
        return query.concepts[0] == root
    return isinstance(root, ql.Or) and set(query.concepts) <= set(root.items)


def _unquoted(item: str) -> str:
    """A lexeme as _rank_items gives it (tsquery output: quotes doubled, backslashes escaped) as the lexeme itself."""
    return re.sub(r"\\(.)", r"\1", item.replace("''", "'"))


def _implied_groups(node) -> set[str]:
    """The synonym groups whose lexeme alone matches a concept's rank tsquery (the concept, or an alternative of it)."""
    if isinstance(node, ql.Synonym):
        return {node.group}
    if isinstance(node, ql.Or):
        return {item.group for item in ql.without_redundant_phrase(node, True) if isinstance(item, ql.Synonym)}
    return set()


# The RUM index on rank_document: created by migration 5e4c0b0a1d12 only where the extension exists, so it is not in
# the models (network.core.db.OPTIONAL_INDEXES names it for comparisons).
RUM_INDEX = "ix_case_search_rank_rum"
_RUM: dict[str, bool] = {}  # database URL -> whether RUM_INDEX exists there (looked up once per process)
HAS_RUM = text("SELECT to_regclass(:name) IS NOT NULL")
# For the RUM candidate statement: an index scan in rank order, never a bitmap scan followed by a sort of every
# match by <=> (which would compute the distance from each row's vector); work_mem large enough that RUM sorts the
# ranked postings in memory (at 4 MB, 85,000 matches spill to disk: 135 ms against 80 ms).
RUM_SETTINGS = text("SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan'), "
                    "current_setting('work_mem'), set_config('enable_bitmapscan', 'off', true), "
                    "set_config('enable_seqscan', 'off', true), set_config('work_mem', '32MB', true)")
RUM_RESTORE = text("SELECT set_config('enable_bitmapscan', :bitmap, true), set_config('enable_seqscan', :seq, true), "
                   "set_config('work_mem', :memory, true)")
# How common each lexeme of the ranking vector is (the share of rows holding it), from the statistics ANALYZE keeps
# for a tsvector column (its most common lexemes): ts_rank has no inverse document frequency, so without it a word
# found in every case weighed as much as the one word that tells the relevant cases apart. Read once per database
# and STATS_SECONDS; a rebuild analyses the table and reads them again. Lexemes not listed are rarer than all
# those listed.
LEXEME_STATS = text("SELECT CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs, c.reltuples "
                    "FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass(quote_ident(s.schemaname) || '.' || "
                    "quote_ident(s.tablename)) WHERE s.schemaname = current_schema() AND s.tablename = 'case_search' "
                    "AND s.attname = :column")
STATS_SECONDS = 600.0
# (database URL, column) -> (read at, lexeme -> share, the smallest share listed, rows)
_STATS: dict[tuple[str, str], tuple[float, dict[str, float], float, float]] = {}
_LEXEME_RE = re.compile(r"'((?:[^']|'')*)'")
# Facet counts (_facet_counts): exact up to EXACT_FACETS matches; above, estimated from a sample of the matches: the
# rows of the first of SAMPLE_PARTS (buckets of SAMPLE_BUCKETS: 1 in 16), then the next parts (1 in 8, 1 in 4) until
# the sample holds MIN_SAMPLE rows (a quarter of 5,001 matches holds 1,250). 2,500 rows put a facet held by a tenth of
# the matches within about 6 % of its count (one standard error), one held by 1 % within about 20 %.
EXACT_FACETS = 5000
SAMPLE_BUCKETS = 16
SAMPLE_PARTS = ((0,), (1,), (2, 3))
MIN_SAMPLE = 2500
# The total: exact up to EXACT_TOTAL matches (a count that stops reading there); above, estimated from the sample
# buckets (at least MIN_TOTAL_SAMPLE sampled matches: a standard error of about 3 %) and `total_exact` says so, as
# Elasticsearch counts exactly up to its default track_total_hits of 10,000. Counting every match read the heap page
# of each (the reader's scope): 5,074 pages for a word in two thirds of 100,000 cases.
EXACT_TOTAL = 10_000
MIN_TOTAL_SAMPLE = 1000
# A search page with facets reads its page in the pass that counts them when there are at most this many matches
# (PostgresBackend._facets_and_page): ranking them there (about 4 us a match) costs less than selecting them again.
PAGE_IN_PASS = EXACT_FACETS
# ... and up to this many where neither the RUM index nor the tier would pick the candidates of a page read on its
# own: ranking them in the pass costs about 4 us a match, reading the page on its own selects them again and ranks
# them all the same
# ("court order account" in Asia, 2009-2012: 5,845 matches, 110 -> 84 ms for the facets and the page).
RANKED_IN_PASS = EXACT_TOTAL
# The sample is read first; the exact count (up to EXACT_TOTAL + 1) is skipped when the sample puts the total above
# this many times EXACT_TOTAL: a 1-in-16 sample of 10,000 matches holds about 625 of them (one standard error: about
# 25, 4 %), and would have to hold 1.25 times its share (781, six standard errors more) to skip it; a sample that
# skips it wrongly reports an estimate a few percent off (`total_exact` False) where the count was at most 10,000.
# It was 3: the count of 10,001 rows (10-17 ms at 100,000 cases) was read for totals of 12,000-30,000 that it then
# replaced by the estimate (on the benchmark's 240 queries: 6.5 -> 5.9 s in all, 23 -> 15 above 50 ms).
ESTIMATE_ABOVE = 1.25  # times EXACT_TOTAL
# A case's sample bucket: runs of SAMPLE_RUN consecutive case ids share one, so that a bucket's rows lie together on
# the table's pages (a rebuild writes them in id order) and a sample of 1 in 16 reads about 1 page in 12, where a
# hashed id put a sampled row on 7 pages in 10. Each case is in one bucket: the sample is 1 in 16 of every run.
SAMPLE_RUN = 16
FACET_SEPARATOR = "\n"  # between facet tokens in the sample (tokens are "kind:code", codes of the vocabulary)
# Selector lexemes of `document` (issue 11, item 5): the reader-scope fields, each facet token and the sample bucket,
# so that a text query, the reader's scope, the facet filters and a sample are one condition of the text's GIN index
# (intersected there: only the rows that match all are read) instead of conditions tested on every text match's row.
# "~:" begins no word and no synonym lexeme ("~" and letters or digits). The columns keep the same values: a row is
# checked through them where it is read anyway (the RUM path, the newest first without words).
SELECTOR = "~:"
SELECTOR_MAX = 60  # facet tokens are varchar(60): a longer filter code matches nothing


# Statements and conditions of a search, kept per process under everything that shapes them (PostgresBackend._shape:
# how many concepts, synonym groups and pairs the rank holds, which filters are set, the reader's kind, the order and
# the page's size), every value of the search (its tsqueries, weights, selector lexemes, filter codes and years) a
# parameter named by its role (VALUE_NAMES) and given at each execution (PostgresBackend._values): building one again
# and working out its cache key, which SQLAlchemy remembers on the statement object, cost more than running it on a
# small catalogue; kept per query, as they were, every new query built its own (over the benchmark's 240 queries at
# 100,000 cases, each new to the process: the client's CPU 2.0-2.8 s per query kept, 1.8-2.3 s per shape, the same
# pages; a question at 10,000 cases 85-93 ms the first time, against 96-109). A shape not met before is still built
# and compiled once (_padded makes the ranks of questions share a few). Only SQL is kept, never a result. Cleared
# all at once when full (no iteration that another thread's insertion could break).
KEPT_STATEMENTS = 512
# The names of a search's values (PostgresBackend._values): the text's tsquery (v_tsq), the selection (v_sel: the
# text and the selector lexemes in one tsquery; v_sel_b: of the sample buckets), the filters' codes (v_f_<kind>) and
# years (v_year_from, v_year_to), the rank's (_rank_plan: v_rc, v_rk, v_rg, v_rgw, v_rmean, v_rp), the candidates'
# tsquery (v_rcand), and those of a path's own statements (v_tier_query, v_rare, v_max_sel, v_impact_sel). Every value
# that differs between two searches of one shape has one of these names (tests/test_search_postgres_shapes.py).
VALUE_NAMES = ("v_tsq", "v_sel", "v_sel_b", "v_f_", "v_year_from", "v_year_to", "v_rc", "v_rk", "v_rg", "v_rgw",
               "v_rmean", "v_rp", "v_rn", "v_rpn", "v_rcand", "v_tier_query", "v_rare", "v_max_sel", "v_impact_sel")
_KEPT: dict[tuple, object] = {}


def _kept(key: tuple, build: Callable[[], object]):
    """The statement (or conditions) kept under `key`, built by `build` the first time (None too)."""
    found = _KEPT.get(key, _KEPT)
    if found is _KEPT:
        found = build()
        if len(_KEPT) >= KEPT_STATEMENTS:
            _KEPT.clear()
        _KEPT[key] = found
    return found


def _filters_key(filters: Mapping[str, Iterable[str]]) -> tuple:
    """The filters as a key: every filter given, its values in order (an empty filter selects as none)."""
    return tuple(sorted((kind, tuple(codes)) for kind, codes in filters.items() if codes))


def sample_bucket(case_id: int) -> int:
    """The sample bucket of a case (SAMPLE_RUN consecutive ids share one; the migration computes the same)."""
    return (int(case_id) // SAMPLE_RUN) % SAMPLE_BUCKETS


def selector_lexemes(case_id: int, status: str, visibility: str, facets: Iterable[str]) -> list[str]:
    """The selector lexemes of a case's `document`: its status, its visibility, its sample bucket, its facets."""
    return [f"{SELECTOR}s:{status}", f"{SELECTOR}v:{visibility}", f"{SELECTOR}b:{sample_bucket(case_id)}",
            *(f"{SELECTOR}f:{token}" for token in facets)]


def _quoted(lexeme: str) -> str:
    """A lexeme in tsquery input syntax, quoted (a filter code is whatever the request said)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


# Built once: a statement object keeps its cache key, which SQLAlchemy otherwise works out again on every execution.
HAS_WORD = select(SearchWord.word).where(SearchWord.word == bindparam("word", type_=String))
ADD_WORDS = text("INSERT INTO search_words (word) SELECT unnest(CAST(:words AS varchar(60)[])) "
                 "ON CONFLICT (word) DO NOTHING")


HAS_WORDS = text("SELECT word FROM search_words WHERE word = ANY(CAST(:words AS varchar(60)[]))")


@functools.lru_cache(maxsize=1024)
def _root_of(word: str) -> ql.Node | None:
    """The root of a word parsed alone, as SearchBackend._finds_nothing searches it (parsing is a pure function of the
    text: the synonyms are read once per process)."""
    return ql.parse(word).root


# ts_rank's weights of the letters {D, C, B, A} (PostgreSQL's defaults). A concept held through its synonym group
# (the case names it in any language, in any words of the thesaurus) adds SYNONYM_RANK to the score, as the Whoosh
# backend weighs its "syn" field (whoosh_backend.SYNONYM_BOOST): with the synonyms' lexemes at weight B only, a case
# in the query's language, holding the literal words in its title, always outranked one saying the same thing in
# another language.
# Tuned on the evaluation set's tuning split: 0 -> nDCG@10 0.639, 0.5 -> 0.711, 1.5 -> 0.711; B at 1.0 instead
# of the additive bonus: 0.631 (then, with COORDINATION 1 and the rest of issue 11's analysis: 0.5 and 1.5 -> 0.735).
# With each concept's rank summed over its items (PostgresBackend._rank_scale: two or three times the averaged rank),
# 0.5 -> 0.808, 2 -> 0.820, 3 -> 0.822, 4 -> 0.820, 6 -> 0.817.
RANK_WEIGHTS = (0.1, 0.2, 0.4, 1.0)
SYNONYM_RANK = 3.0
# Each group's bonus is then multiplied by BM25's length normalisation of the groups the row names (its synonym
# lexemes: weight D in rank_document; the mean from the lexeme statistics), as the Whoosh backend's "syn" field is
# normalised by its length (whoosh_backend.K1 and B), but at most 1: a case naming more groups than the average
# mentions them in passing. Without it every case holding a question's groups got the same bonus, larger than its
# words' ranks, and rare filler words ordered them ("serve" in "Can UNTOC serve as the legal basis ...?"). Tuning
# split nDCG@10 0.829 -> 0.835, questions 0.791 -> 0.814 (Whoosh 0.837 and 0.812). Uncapped (a case naming fewer
# groups than the average gets up to 1.5 times the bonus, as in Whoosh): 0.834, questions 0.818, but then no bound
# of SYNONYM_RANK per group holds (_tier_split, _max_score_split, _impact_split), and loosened, the tiers and lists
# proved no page. B 0.5 (uncapped): 0.835, questions 0.811; B 1: 0.831 (docs/decisions/0003).
SYNONYM_K1, SYNONYM_B = 1.2, 0.75
RANK_ITEM_BOUND = _item_bound(RANK_WEIGHTS)  # a concept's ts_rank at most (_max_score_split)


def rank(vector, tsquery):
    """ts_rank with RANK_WEIGHTS (a constant array of the statement: no user input)."""
    weights = literal_column("'{" + ",".join(f"{w:g}" for w in RANK_WEIGHTS) + "}'::float4[]")
    return func.ts_rank(weights, vector, tsquery)


# _top's order newest first: by filed_on, or (beside words, or a year range without words) by an expression of it
# that ix_case_search_filed_on cannot serve (see PostgresBackend._by_date).
_BY_DATE = {shifted: ((CaseSearch.filed_on + literal_column("0", Integer) if shifted else CaseSearch.filed_on)
                      .desc().nulls_last(), CaseSearch.case_id.desc()) for shifted in (False, True)}


_SEPARATOR = literal(FACET_SEPARATOR, String)
_JOINED = func.array_to_string(CaseSearch.facets, _SEPARATOR)  # a row's facet tokens as one text
# The page a search asks for beside its facets ((sort, limit): PostgresBackend.search), for _facet_counts.
_PAGE: ContextVar[tuple[str, int] | None] = ContextVar("search_page", default=None)


def _filtered(filters: Mapping[str, Iterable[str]]) -> bool:
    """Whether a facet filter is set (the facets' GIN index can select: year_from / year_to cannot)."""
    return any(filters.get(kind) for kind in ENGINE_FILTERS)


def _sample_buckets(parts: Iterator[tuple[int, ...]], matches: int, sampled: int = 0) -> tuple[int, ...]:
    """The buckets of the first of `parts` (taken from the iterator) that hold MIN_SAMPLE of `matches` rows with the
    `sampled` rows already read, as many as each part's share of the buckets expects, or of all of them."""
    taken: list[int] = []
    for part in parts:
        taken += part
        if sampled + matches * len(taken) / SAMPLE_BUCKETS >= MIN_SAMPLE:
            break
    return tuple(taken)


def _tokens(joined: str | None) -> Counter:
    """Facet tokens joined by FACET_SEPARATOR, counted (Counter's own loop over the split: a third faster than a
    filtering generator on the 56,000 tokens of 5,000 matches)."""
    counts = Counter((joined or "").split(FACET_SEPARATOR))
    counts.pop("", None)
    return counts


KEPT_COUNTS_CHARS = 50_000  # the tokens of a few hundred matches: longer texts are counted, not kept


def _exact_counts(joined: str) -> tuple[tuple[str, str, int], ...]:
    """The exact counts of facet tokens joined by FACET_SEPARATOR, as (kind, code, count) most frequent first (then
    by token): a pure function of the text, and the same matches give the same text on most requests (kept per
    process, up to 256 texts of at most KEPT_COUNTS_CHARS)."""
    return _kept_counts(joined) if len(joined) <= KEPT_COUNTS_CHARS else _counts_of(joined)


def _counts_of(joined: str) -> tuple[tuple[str, str, int], ...]:
    return tuple((*value.partition(":")[::2], n)
                 for value, n in sorted(_tokens(joined).items(), key=lambda row: (-row[1], row[0])))


_kept_counts = functools.lru_cache(maxsize=256)(_counts_of)


def _synonyms_of(query: ql.Query) -> list[ql.Synonym]:
    """The synonym groups of the query's concepts, each once."""
    found: dict[str, ql.Synonym] = {}

    def walk(node) -> None:
        if isinstance(node, ql.Synonym):
            found.setdefault(node.group, node)
        elif isinstance(node, (ql.And, ql.Or)):
            for item in node.items:
                walk(item)

    for concept in query.concepts:
        walk(concept)
    return list(found.values())


def config_input(words: str, config: str) -> str:
    """Folded words as the configuration `config` is given them: as its language's stemmer needs them
    (documents.stemming_input), and unchanged for "simple"."""
    lang = CONFIG_LANGUAGES.get(config)
    return stemming_input(words, lang) if lang else words


def synonym_lexeme(group: str) -> str:
    """The lexeme of a synonym group in the tsvector: "~" cannot start a word of any text or query (words are
    letters and digits only), so no prefix query or typed word ever meets it."""
    return f"~{group}"


def positioned(lexeme: str) -> str:
    """A lexeme at position 1 in tsvector input syntax, quoted (synonym lexemes are "~" and letters or digits; a
    quote or backslash would be escaped all the same)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "':1"


def words_only(text: str) -> str:
    """Folded text reduced to its words separated by spaces (CJK runs as bigrams): PostgreSQL's parser then sees
    the words Whoosh's tokenizer sees ("2016/000123" -> "2016 000123"), not file paths, e-mail addresses or
    hyphenated compounds."""
    return segmented(text)


def _row(doc: SearchDocument, now) -> dict:
    texts: dict[str, list[str]] = {f"{config}_{group}": [] for config, group in SLOTS}
    texts.update({f"own_simple_{group}": [] for group in RANK_GROUPS})
    for version in doc.versions:
        stemmed = version.language in STEMMED_LANGUAGES
        configs = (PG_CONFIGS[version.language], "simple") if stemmed else ("simple", "own_simple")
        for group in FIELD_GROUPS:
            words = words_only(version.text(group))
            if words:
                for config in configs:
                    if config != "own_simple" or group in RANK_GROUPS:
                        texts[f"{config}_{group}"].append(stemming_input(words, version.language) if config
                                                          in CONFIG_LANGUAGES else words)
    row = {name: "\n".join(values) for name, values in texts.items()}
    row.update(case_id=doc.id, status=doc.status, visibility=doc.visibility, submitter_id=doc.submitter_id,
               reviewer_id=doc.reviewer_id, filed_on=doc.when, year=doc.year, facets=list(doc.facets),
               synonyms=[synonym_lexeme(g) for g in ql.document_synonyms(doc)], indexed_at=now)
    row["rank_synonyms"] = " ".join(positioned(lexeme) for lexeme in row["synonyms"])
    row["selectors"] = selector_lexemes(doc.id, doc.status, doc.visibility, doc.facets)
    return row


def _batches(docs: Iterable) -> Iterator[list]:
    """`docs` in lists of BATCH (the last one shorter)."""
    batch: list = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _Writer(IndexWriter):
    def __init__(self, session) -> None:
        self.session = session

    def index(self, docs: Iterable[SearchDocument]) -> int:
        return self.write(self.prepare(docs))

    @staticmethod
    def prepare(docs: Iterable[SearchDocument]) -> tuple[list[dict], set[str]]:
        """The rows and the words of `docs`: Python alone, no database (a rebuild prepares the next batch in a
        thread of its own while the database writes this one)."""
        now = utcnow()
        rows: list[dict] = []
        words: set[str] = set()
        for doc in docs:
            rows.append(_row(doc, now))
            words |= {w for w in doc.words() if len(w) <= 60}
        return rows, words

    def write(self, prepared: tuple[list[dict], set[str]]) -> int:
        rows, words = prepared
        for start in range(0, len(rows), BATCH):
            self.session.execute(UPSERT, rows[start:start + BATCH])
        if words:
            self.session.execute(ADD_WORDS, {"words": sorted(words)})
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.session.execute(delete(CaseSearch).where(CaseSearch.case_id.in_(ids)))


class PostgresIndex(SearchBackend):
    """What every PostgreSQL index shares (the cases'; the forum's posts): the session to use, a writer under the
    indexer's advisory lock inside a savepoint, a batched rebuild and the count. A subclass names its table, its
    lock key and its writer."""

    name = "postgres"
    table: type
    lock_key: int
    writer_class: type[IndexWriter]

    def __init__(self, session_factory: Callable[[], object]) -> None:
        """`session_factory` gives the SQLAlchemy session to use (the request's, by default)."""
        self._session_factory = session_factory

    @property
    def session(self):
        return self._session_factory()

    def with_session(self, session):
        return type(self)(lambda: session)

    # ------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        """Within the session's transaction: the caller commits (with the outbox rows it drained)."""
        session = self.session
        session.execute(select(func.pg_advisory_xact_lock(literal(self.lock_key))))
        savepoint = session.begin_nested()
        try:
            yield self.writer_class(session)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    def rebuild(self, docs: Iterable, progress: Callable[[int], None] | None = None) -> int:
        n = 0
        with self.writer() as writer:
            self.session.execute(delete(self.table))
            self._emptied()
            prepare = getattr(writer, "prepare", None)
            if prepare is None:
                for batch in _batches(docs):
                    n += writer.index(batch)
                    if progress:
                        progress(len(batch))
                return n
            # A writer that prepares its rows in Python alone: the next batch's rows are made in a thread while the
            # database writes this batch's (the documents themselves are read here, on the session's thread); on
            # two cores about a third less time (10,000 cases: the rows' Python is a third of the rebuild).
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-rebuild") as pool:
                pending = None  # (the batch's size, its rows being prepared)
                for batch in _batches(docs):
                    ahead = (len(batch), pool.submit(prepare, batch))
                    if pending is not None:
                        n += writer.write(pending[1].result())
                        if progress:
                            progress(pending[0])
                    pending = ahead
                if pending is not None:
                    n += writer.write(pending[1].result())
                    if progress:
                        progress(pending[0])
        return n

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.table)) or 0

    def _emptied(self) -> None:
        """Called by rebuild within its savepoint, once the table is emptied and before the rows are written."""


class PostgresBackend(PostgresIndex):
    table, lock_key, writer_class = CaseSearch, LOCK_KEY, _Writer
    total_facet = "outcome"  # a search with facets selects once: _facet_counts sets the exact total itself
    # case_search and search_words (search_lexeme_bounds is written by case_search's triggers). An answer kept under
    # them is ranked with the lexeme statistics of its time (read every STATS_SECONDS): statistics that ANALYZE
    # refreshes without a change of rows may order ties differently, an answer as good as the one kept.
    generation_names = (CASE_SEARCH,)

    # With `exclusive_rebuild` (`flask search reindex --exclusive`, the benchmark), a full rebuild builds the RUM
    # index once, after the rows, instead of maintaining it on every insert (10,000 cases: about three times
    # faster; docs/decisions/0011). Dropping the index takes the table: searches wait until the rebuild commits.
    # The default rebuild keeps the index, and readers keep the old rows until it commits.
    exclusive_rebuild = False
    EXCLUSIVE_LOCK_TIMEOUT = "2s"  # a reader's open transaction holds the table: then rebuild the default way

    def rebuild(self, docs: Iterable, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild every row. DDL is transactional: with `exclusive_rebuild`, the index is dropped and created inside
        a savepoint of the rebuild's transaction, so a failed rebuild leaves the old rows and the old index. The
        table is analysed afterwards: ranking weighs each word by how common its lexemes are (LEXEME_STATS)."""
        session = self.session
        if not (self.exclusive_rebuild and self.has_rum() and self._drop_rum_index_or_give_up()):
            n = super().rebuild(docs, progress)
        else:
            try:
                n = super().rebuild(docs, progress)
                session.execute(text(f"CREATE INDEX {RUM_INDEX} ON case_search USING rum (rank_document "
                                     "rum_tsvector_ops)"))
            except BaseException:
                self._dropped.rollback()  # the old index and rows come back
                raise
            self._dropped.commit()
        self.make_impact_lists()
        session.execute(text("ANALYZE case_search"))
        _STATS.clear()
        _ROWS.clear()
        return n

    def _emptied(self) -> None:
        """The lexemes' bounds start again from the rows the rebuild writes (the triggers raise them): exact maxima
        rather than what deleted rows once held. In the rebuild's savepoint, so a failed rebuild keeps them."""
        if self.has_tiers():
            self.session.execute(EMPTY_BOUNDS)
        if self.has_impacts():  # (no cut: the rows written are not listed one by one; make_impact_lists lists them)
            for statement in EMPTY_IMPACTS:
                self.session.execute(statement)

    def _drop_rum_index_or_give_up(self) -> bool:
        """Drop the RUM index in a savepoint (kept as self._dropped) within EXCLUSIVE_LOCK_TIMEOUT; False, with
        nothing changed, when an open transaction holds the table that long (a search in progress, or the caller's
        own session: waiting would never end)."""
        session = self.session
        savepoint = session.begin_nested()
        try:
            timeout = session.scalar(text("SELECT current_setting('lock_timeout')"))
            session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": self.EXCLUSIVE_LOCK_TIMEOUT})
            session.execute(text(f"DROP INDEX IF EXISTS {RUM_INDEX}"))
            session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": timeout})
        except OperationalError:
            savepoint.rollback()
            return False
        self._dropped = savepoint
        return True

    # ------------------------------------------------------------ compiling queries

    def _term_text(self, node: ql.Term) -> str:
        """A word's tsquery as tsquery input text: its analysed alternatives; a prefix (word* : \\w+ only) as
        to_tsquery('simple', quote_literal(word) || ':*') reads it."""
        if node.prefix:
            return self._analysed_text("prefix", words_only(node.word))
        return self._analysed_text("plain", words_only(node.word))

    def _analysed_text(self, kind: str, text: str) -> str:
        """The tsquery of a word ("plain"), a phrase or a prefix, as tsquery input text: under every configuration,
        each distinct alternative once (a prefix: under "simple"), NOTHING when it analyses to nothing.
        PostgreSQL analyses it (plainto_tsquery / phraseto_tsquery / to_tsquery, once per text and process): most
        words give the same lexeme under several configurations, and the repeated alternatives made the planner
        misjudge a word's selectivity (a filter's index read 50,000 rows where the word's would have read 1,500) and
        every rank and containment test do the work several times."""
        key = (kind, text)
        if key not in _ANALYSED:
            self._analyse([key])
        alternatives = _ANALYSED[key]
        if not alternatives:
            return NOTHING
        return " | ".join(f"( {a} )" for a in alternatives)

    def _analyse(self, keys: list[tuple[str, str]]) -> None:
        """Analyses texts not seen yet, in one statement (each text under each configuration; a prefix under
        "simple", as to_tsquery reads it)."""
        keys = [key for key in dict.fromkeys(keys) if key not in _ANALYSED]
        if not keys:
            return
        columns, spans = [], []
        for i, (kind, text_) in enumerate(keys):
            start = len(columns)
            if kind == "prefix":
                word = bindparam(f"t{i}_prefix", text_, type_=String)
                columns.append(cast(func.to_tsquery(_config("simple"), func.quote_literal(word).op("||")(":*")),
                                    String))
            else:
                function = func.plainto_tsquery if kind == "plain" else func.phraseto_tsquery
                columns += [cast(function(_config(c), bindparam(f"t{i}_{c}", config_input(text_, c), type_=String)),
                                 String) for c in QUERY_CONFIGS]
            spans.append((start, len(columns)))
        row = self.session.execute(select(*columns)).one()
        if len(_ANALYSED) > ANALYSED_MAX:
            _ANALYSED.clear()
        for key, (start, end) in zip(keys, spans, strict=True):
            _ANALYSED[key] = tuple(dict.fromkeys(o for o in row[start:end] if o))

    def prepare(self, query: ql.Query) -> None:
        """Analyses every word and phrase of a query in one round trip before it is compiled."""
        keys: list[tuple[str, str]] = []

        def walk(node) -> None:
            if isinstance(node, ql.Term):
                keys.append(("prefix" if node.prefix else "plain", words_only(node.word)))
            elif isinstance(node, ql.Phrase):
                keys.append(("phrase", " ".join(words_only(w) for w in node.words)))
                keys.extend(("plain", words_only(w)) for w in node.words)
            elif isinstance(node, ql.Not):
                walk(node.item)
            elif isinstance(node, (ql.And, ql.Or)):
                for item in node.items:
                    walk(item)

        walk(query.root)
        for pair in query.pairs:
            keys.append(("phrase", " ".join(words_only(w) for w in pair)))
        self._analyse(keys)

    def compile(self, node: ql.Node, ranking: bool = False):
        """The tsquery of a node (None when it has none): its text (compile_text) as one bound parameter."""
        compiled = self.compile_text(node, ranking)
        return _as_tsquery(compiled) if compiled is not None else None

    def compile_text(self, node: ql.Node, ranking: bool = False) -> str | None:
        """The tsquery of a node as tsquery input text, each part in parentheses (PostgreSQL reads it as it would
        tsquery_or / tsquery_and / tsquery_not of the parts: one cast in the statement where each part and each
        operator was a node of its own, which SQLAlchemy built, keyed and compiled again for every query). Words
        spelling a synonym term come as (Phrase OR Synonym [OR each word]; see query.without_redundant_phrase): every
        document holding the phrase also holds the group's lexeme, so matching needs the lexeme only (no
        positions to check). `ranking` (for ts_rank over rows already selected) turns phrases into their words
        and leaves NOT parts out: the rank vector holds stems (and unstemmed words only of languages without a
        stemmer), so a phrase's words are looked up under every configuration, as typed words are."""
        if isinstance(node, ql.Term):
            return self._term_text(node)
        if isinstance(node, ql.Phrase):
            if ranking:
                return " & ".join(f"( {self._term_text(ql.Term(word))} )" for word in node.words)
            return self._analysed_text("phrase", " ".join(words_only(w) for w in node.words))
        if isinstance(node, ql.Synonym):  # a quoted lexeme, read verbatim: group names are ours, letters only
            return "'" + synonym_lexeme(node.group) + "'"
        if isinstance(node, ql.Not):
            inner = self.compile_text(node.item)
            return f"!( {inner} )" if inner is not None else None
        if isinstance(node, ql.Or):
            items = ql.without_redundant_phrase(node, ranking)
            if len(items) == 1:
                return self.compile_text(items[0], ranking)
        else:
            items = node.items
        items = [item for item in items if not (ranking and isinstance(item, ql.Not))]
        compiled = [c for c in (self.compile_text(item, ranking) for item in items) if c is not None]
        if not compiled:
            return None
        if len(compiled) == 1:
            return compiled[0]
        return (" | " if isinstance(node, ql.Or) else " & ").join(f"( {c} )" for c in compiled)

    @staticmethod
    def scope(viewer: Viewer):
        """Mirrors services.visible_cases: published; public unless the viewer is a vetted member."""
        condition = CaseSearch.status == "published"
        if not viewer.vetted:
            condition = and_(condition, CaseSearch.visibility == "public")
        return condition

    @staticmethod
    def _filter_values(filters: Mapping[str, Iterable[str]]) -> dict[str, object]:
        """The filters' values by name (VALUE_NAMES): each facet filter's codes, the years."""
        values: dict[str, object] = {f"v_f_{kind}": [f"{kind}:{c}" for c in filters[kind]]
                                     for kind in ENGINE_FILTERS if filters.get(kind)}
        for kind in ("year_from", "year_to"):
            year = next(iter(filters.get(kind) or ()), None)
            if year:
                values[f"v_{kind}"] = int(year)
        return values

    @classmethod
    def filter_conditions(cls, filters: Mapping[str, Iterable[str]], indexed: bool = True) -> list:
        """The filters as conditions on the facet tokens and the year, their values named (_filter_values). Not
        `indexed` (beside a text query): each
        filter is written so that the planner cannot read the facets' GIN index for it. It otherwise picks that
        index for a filter it deems selective and then tests `document @@ query` row by row, fetching and
        decompressing the TOASTed document of every row the filter keeps (a region filter and a common word at
        100,000 cases: 274,000 buffers, against 17,000 when the text's GIN index selects and the filter is
        checked on the row, where the facets are inline)."""
        values = cls._filter_values(filters)
        conditions = []
        for kind in ENGINE_FILTERS:
            if f"v_f_{kind}" in values:
                overlap = CaseSearch.facets.op("&&")(cast(_value(f"v_f_{kind}", values, ARRAY(String)), ARRAY(String)))
                conditions.append(overlap if indexed else func.coalesce(overlap, false()))
        if "v_year_from" in values:
            conditions.append(CaseSearch.year >= _value("v_year_from", values, Integer))
        if "v_year_to" in values:
            conditions.append(CaseSearch.year <= _value("v_year_to", values, Integer))
        return conditions

    # ------------------------------------------------------------ reading

    @contextmanager
    def _through_index(self, tsquery, filtered: bool = False) -> Iterator[None]:
        """For a text query, statements that read the GIN index rather than scan the table. Words found in half
        the catalogue make a sequential scan look cheaper to the planner, but it evaluates `document @@ query` on
        every row, fetching and decompressing each TOASTed document (at 100,000 cases: 440,000 buffers for one
        query, against 28,000 by the bitmap index scan, whose exact matches need no recheck). Set for this
        statement only (transaction-local, then restored), so the rest of the request plans as usual. The same
        for facet filters without words (`filtered`): a filter keeping 60,000 of 100,000 cases was a scan testing
        `facets && codes` on every row (two to four times the time of the facets' GIN index, whose matches need
        no recheck either), and the newest first are read from ix_case_search_filed_on rather than sorted."""
        if tsquery is None and not filtered or self._small():  # (tsquery True: a selection, always through the index)
            yield
            return
        session = self.session
        reading = session.info.get(READING)
        if reading is not None:  # inside reading(): set once for the whole search, restored when it ends
            if "previous" not in reading:
                reading["previous"] = self._seqscan_off()
            yield
            return
        previous = self._seqscan_off()
        try:
            yield
        finally:
            session.execute(SEQSCAN_RESTORE, {"previous": previous[0], "memory": previous[1]})

    def _seqscan_off(self) -> tuple[str, str]:
        """Sets enable_seqscan off and work_mem to READING_WORK_MEM for the transaction; returns their settings
        before, and notes the table's size."""
        previous, memory, _set, _plans, _memory, rows = self.session.execute(
            SEQSCAN_OFF, {"small": SMALL_TABLE, "work_mem": READING_WORK_MEM}).one()
        _ROWS[self._url()] = (time.monotonic(), float(rows) if rows is not None else -1.0)
        return previous, memory

    def _small(self) -> bool:
        """Whether case_search had fewer than SMALL_TABLE rows when the planner setting was last made (within
        STATS_SECONDS; a rebuild forgets it): a small table is read as the planner likes, without the setting."""
        entry = _ROWS.get(self._url())
        return entry is not None and time.monotonic() - entry[0] <= STATS_SECONDS and 0 <= entry[1] < SMALL_TABLE

    def _url(self) -> str:
        return self.session.get_bind().url.render_as_string(hide_password=True)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The statements of one search (its correction, its facets, its page) under one planner setting: the
        setting of _through_index is made by the first statement that needs it and restored once at the end (a
        search page ran three pairs of set and restore: six round trips of its twelve); and each word's presence
        in search_words is looked up once (a correction asks about a typed word twice). Nothing outlives the
        block: what it keeps is in the session's info, dropped at its end."""
        session = self.session
        if READING in session.info:  # already inside one
            yield
            return
        reading: dict = {}
        session.info[READING] = reading
        try:
            yield
        finally:
            del session.info[READING]
            if "previous" in reading:
                previous, memory = reading["previous"]
                session.execute(SEQSCAN_RESTORE, {"previous": previous, "memory": memory})

    def search(self, query, filters=None, facets=(), page=None, viewer: Viewer = ANONYMOUS, sort: str = "relevance",
               suggest: bool = True, correct: bool = False) -> SearchHits:
        """As every engine's; a page asked for with facets is read by the statement that counts them when the
        matches are few enough (_facets_and_page): they are selected once."""
        wanted = None
        if page is not None and tuple(facets):
            wanted = (sort, max(1, page[0]) * max(1, page[1]))  # the limit SearchBackend.search asks _top for
        token = _PAGE.set(wanted)
        try:
            hits = super().search(query, filters, facets, page, viewer, sort, suggest, correct)
        finally:
            _PAGE.reset(token)
        self._note_found(hits, filters or {}, viewer)
        return hits

    def _note_found(self, hits: SearchHits, filters, viewer: Viewer) -> None:
        """Inside reading(): what a search's total says of its query in the reader's scope, for a correction that
        asks about the same text (_finds_nothing): it finds something (a total above 0; filters only narrow), or,
        searched without filters, nothing. The catalogue searches a single typed word first, then corrects it
        (catalogue.cases.queries._engine_page): the correction then needs no lookup of its own."""
        reading = self.session.info.get(READING)
        searched = hits.query
        if reading is not None and searched and (hits.total or not _filters_key(filters)):
            reading.setdefault("finds", {})[(viewer, searched.text)] = (searched.root, bool(hits.total))

    def _finds_nothing(self, word: str, viewer: Viewer) -> bool:
        """As every engine's, without a lookup when a search in this reading() block searched the word alone
        (_note_found): one that found something answers False; one without filters that found nothing leaves the
        word's presence in search_words to decide, as SearchBackend._finds_nothing does."""
        reading = self.session.info.get(READING)
        known = reading.get("finds", {}).get((viewer, word)) if reading is not None else None
        if known is None or _root_of(word) != known[0]:
            return super()._finds_nothing(word, viewer)
        return not known[1] and not self._has_word(word)

    def _select(self, query: ql.Query, filters, viewer: Viewer, count: bool = True) -> Matches:
        if query:
            self.prepare(query)  # (analysed once per process: the rank's weights read the analyses too)
        values, rank_shape = self._search_values(query, filters, viewer)
        shape = self._shape(query, filters, viewer, rank_shape)
        where, tsquery = _kept(("select", shape), lambda: self._conditions(query, filters, viewer, values))
        matches = Matches(total=0, handle=(list(where), tsquery), query=query, filters=filters, viewer=viewer)
        matches.values, matches.shape = values, shape
        if count:
            self._count_total(matches)
        return matches

    def _search_values(self, query: ql.Query, filters, viewer: Viewer) -> tuple[dict[str, object], tuple | None]:
        """The values of a search's statements by name (VALUE_NAMES): those of the text, the selection, the filters,
        the rank (_rank_plan) and the candidates' tsquery (_candidate_query); and the rank's shape (None without a
        concept to rank). Computed at each search (its tsqueries are analysed once per process, its weights read from
        the lexeme statistics as they are)."""
        values: dict[str, object] = self._filter_values(filters)
        rank_shape = None
        words = None
        if query:
            values["v_tsq"] = words = self.compile_text(query.root)
        values["v_sel"] = self._selection_of(viewer, filters, words)
        if query:
            plan = self._rank_plan(query)
            if plan is not None:
                rank_shape = plan[0]
                values.update(plan[1])
                values["v_rcand"] = self._candidate_query(query)
        return values, rank_shape

    @staticmethod
    def _shape(query: ql.Query, filters, viewer: Viewer, rank_shape: tuple | None) -> tuple:
        """What the statements of a search are made of beside its values (_search_values): whether it has words, the
        shape of its rank (_rank_plan), whether it only excludes, whether holding a rank lexeme implies a match
        (_concepts_match); the reader's kind; the filters set. Statements are kept under it (with the order, the
        page's size and what else each path adds) and run with each search's values."""
        words = None
        if query:
            words = (rank_shape, ql.only_negative(query.root), _concepts_match(query))
        return (words, viewer.vetted, tuple(kind for kind in ENGINE_FILTERS if filters.get(kind)),
                bool(filters.get("year_from")), bool(filters.get("year_to")))

    def _values(self, matches: Matches, **more: object) -> dict[str, object]:
        """The values of `matches`' statements (_search_values), with `more`."""
        return {**matches.values, **more} if more else matches.values

    def _conditions(self, query: ql.Query, filters, viewer: Viewer, values: Mapping[str, object]) -> tuple[tuple, object]:
        """_select's conditions and the query's tsquery (None without words), its values named (_search_values)."""
        where = [self.scope(viewer), *self.filter_conditions(filters, indexed=not query)]
        tsquery = None
        if query:
            tsquery = _tsquery_value("v_tsq", values)
            where.append(CaseSearch.document.op("@@")(tsquery))  # the GIN index; nothing is ranked here
        return tuple(where), tsquery

    @staticmethod
    def _matches_key(matches: Matches) -> tuple:
        """What the statements of `matches` are made of beside their values: their shape (_shape)."""
        return (matches.shape,)

    @staticmethod
    def selector_text(viewer: Viewer, filters: Mapping[str, Iterable[str]], buckets: Iterable[int] | None = None) -> str:
        """tsquery input text of selector lexemes for what `scope(viewer)` and the facet filters select (and only the
        rows of the sample `buckets`, if given): AND-ed with the text, one condition of the text's GIN index. Every
        lexeme quoted (the filter codes come from the request), the whole bound as a parameter."""
        parts = [_quoted(f"{SELECTOR}s:published")]
        if not viewer.vetted:
            parts.append(_quoted(f"{SELECTOR}v:public"))
        for kind in ENGINE_FILTERS:
            codes = [f"{kind}:{c}" for c in filters.get(kind) or ()]
            if codes:
                parts.append("( " + " | ".join(_quoted(f"{SELECTOR}f:{c}") if len(c) <= SELECTOR_MAX else NOTHING
                                              for c in codes) + " )")
        if buckets is not None:
            parts.append("( " + " | ".join(_quoted(f"{SELECTOR}b:{int(b)}") for b in buckets) + " )")
        return "( " + " & ".join(parts) + " )"

    @classmethod
    def _selection_of(cls, viewer: Viewer, filters: Mapping[str, Iterable[str]], *texts: str | None,
                      buckets: Iterable[int] | None = None) -> str:
        """tsquery input text of the selector lexemes (selector_text) AND-ed with each of `texts` that is given."""
        return " & ".join([*(f"( {t} )" for t in texts if t is not None), cls.selector_text(viewer, filters, buckets)])

    def _selection_text(self, matches: Matches, buckets: Iterable[int] | None = None, text_: str | None = None) -> str:
        """The selection of `matches` (v_sel) as tsquery input text, of the sample `buckets` if given, AND-ed with
        `text_` too if given."""
        return self._selection_of(matches.viewer, matches.filters, matches.values.get("v_tsq"), text_, buckets=buckets)

    def _selection(self, matches: Matches, buckets: Iterable[int] | None = None) -> list:
        """The conditions selecting `matches` (or their rows in the sample `buckets`: v_sel_b) through the text's GIN
        index alone: the selector lexemes and the text in one tsquery (v_sel), the years on the rows it
        hands over."""
        name = "v_sel" if buckets is None else "v_sel_b"

        def build() -> tuple:
            years = {kind: matches.filters.get(kind) for kind in ("year_from", "year_to") if matches.filters.get(kind)}
            values = {name: self._selection_text(matches, buckets)}
            return (CaseSearch.document.op("@@")(_tsquery_value(name, values)), *self.filter_conditions(years))

        return list(_kept(("selection", *self._matches_key(matches), name), build))

    def _count_total(self, matches: Matches) -> None:
        """Sets the total of `matches`: exact up to EXACT_TOTAL, above it an estimate from the sample buckets (at
        least MIN_TOTAL_SAMPLE sampled matches, never below EXACT_TOTAL + 1) and `matches.total_exact` False.
        Where the table may hold many more than EXACT_TOTAL rows (its statistics say so), the sample is counted
        first (its rows intersected inside the GIN index: only they are read) and the exact count, a count that stops
        reading at EXACT_TOTAL + 1, only when the sample does not put the total above ESTIMATE_ABOVE times
        EXACT_TOTAL: counting the first 10,001 of 67,000 matches read 1,227 heap pages, the sample 664. A smaller
        table (or one never analysed) is counted exactly first: one statement, the sample only if it overflows.
        The sample's first part decides: when it puts the total at most ESTIMATE_ABOVE times EXACT_TOTAL, the count
        comes next, and the sample's other parts only if the count overflows (reading them first, until
        MIN_TOTAL_SAMPLE, made 6,000-12,000 matches three statements, each evaluating the GIN index again).
        Inside reading(), a total is counted once per query, filters and reader (the correction counts the query
        it keeps, and the page counted it again)."""
        reading = self.session.info.get(READING)
        key = (repr(matches.query.root), repr(sorted((kind, tuple(codes)) for kind, codes in matches.filters.items()
                                                     if codes)), matches.viewer.member_id, matches.viewer.vetted)
        totals = reading.setdefault("totals", {}) if reading is not None else {}
        if key in totals:
            matches.total, matches.total_exact = totals[key]
            return
        stats = self.lexeme_shares()
        sample_first = stats is not None and stats[2] > ESTIMATE_ABOVE * EXACT_TOTAL
        parts = iter(SAMPLE_PARTS)
        sampled = buckets = 0
        with self._through_index(True):
            if sample_first:
                # the first part, then the others only while it puts the total above what is counted: when it says
                # the matches will be counted, the count comes first (the sample only if it overflows)
                sampled, buckets = self._sampled_total(matches, iter((next(parts),)))
                if sampled * SAMPLE_BUCKETS / buckets > ESTIMATE_ABOVE * EXACT_TOTAL:
                    sampled, buckets = self._sampled_total(matches, parts, sampled, buckets)
            found = EXACT_TOTAL + 1
            if not buckets or sampled * SAMPLE_BUCKETS / buckets <= ESTIMATE_ABOVE * EXACT_TOTAL:
                found = self.session.scalar(self._first_count(matches), self._values(matches)) or 0
            if found > EXACT_TOTAL:
                sampled, buckets = self._sampled_total(matches, parts, sampled, buckets)
        if found <= EXACT_TOTAL:
            matches.total = found
        else:
            matches.total = max(EXACT_TOTAL + 1, round(sampled * SAMPLE_BUCKETS / buckets))
            matches.total_exact = False
        totals[key] = (matches.total, matches.total_exact)

    def _first_count(self, matches: Matches):
        """The count of `matches` that stops reading at EXACT_TOTAL + 1 (kept per shape)."""
        def build():
            first = select(literal(1, Integer).label("one")).where(*self._selection(matches)) \
                .limit(EXACT_TOTAL + 1).subquery()
            return select(func.count()).select_from(first)

        return _kept(("first count", *self._matches_key(matches), EXACT_TOTAL), build)

    def _sampled_total(self, matches: Matches, parts: Iterator[tuple[int, ...]], sampled: int = 0,
                       buckets: int = 0) -> tuple[int, int]:
        """The sample of `matches` counted on from (`sampled` rows in `buckets` buckets), part after part of `parts`
        (taken from the iterator) until at least MIN_TOTAL_SAMPLE are found: (its rows, its buckets). The total it
        estimates is rows * SAMPLE_BUCKETS / buckets."""
        for part in parts:
            if sampled >= MIN_TOTAL_SAMPLE:
                break
            statement = _kept(("sampled count", *self._matches_key(matches)),
                              lambda: select(func.count()).select_from(CaseSearch)
                              .where(*self._selection(matches, part)))  # noqa: B023 (called now)
            sampled += self.session.scalar(
                statement, self._values(matches, v_sel_b=self._selection_text(matches, part))) or 0
            buckets += len(part)
        return sampled, buckets

    def _count_and_parts(self, matches: Matches, parts: list[tuple[int, ...]]) \
            -> tuple[int, list[tuple[tuple[int, ...], int, str | None]]]:
        """In one statement, the count that stops at EXACT_TOTAL + 1 (_count_total's) and, among the rows it reads,
        each sample part's rows and facet tokens (the bucket computed from the id, as sample_bucket does): (the count,
        [(part, its rows, its tokens joined)]). Exact only when the count is at most EXACT_TOTAL (every match read).
        Why: above EXACT_FACETS the sample's parts were read one statement each and the matches counted in another,
        each evaluating the text's GIN index again ("JIT trafficking" in French or Spanish, 7,840 matches at 100,000
        cases: three statements of 4-6 ms and a count of 14 ms); the count reads every match's row, and the tokens of
        the sample's rows come with it."""
        def build():
            rows = (select(CaseSearch.case_id.label("case_id"), CaseSearch.facets.label("facets"))
                    .where(*self._selection(matches)).limit(EXACT_TOTAL + 1).subquery())
            bucket = (rows.c.case_id // SAMPLE_RUN) % SAMPLE_BUCKETS
            columns = [func.count()]
            for part in parts:
                held = bucket.in_(part)
                columns += [func.count().filter(held),
                            func.string_agg(func.array_to_string(rows.c.facets, _SEPARATOR), _SEPARATOR).filter(held)]
            return select(*columns)

        key = ("count and parts", *self._matches_key(matches), tuple(parts), EXACT_TOTAL, SAMPLE_RUN, SAMPLE_BUCKETS)
        row = self.session.execute(_kept(key, build), self._values(matches)).one()
        return row[0], [(part, row[1 + 2 * i] or 0, row[2 + 2 * i]) for i, part in enumerate(parts)]

    def _ids(self, matches: Matches) -> list[int]:
        where, tsquery = matches.handle
        if tsquery is not None:
            where = self._selection(matches)
        with self._through_index(tsquery, _filtered(matches.filters)):
            return list(self.session.scalars(select(CaseSearch.case_id).where(*where), self._values(matches)))

    def lexeme_shares(self, column: str = "rank_document") -> tuple[dict[str, float], float, float] | None:
        """lexeme -> share of rows holding it in `column` of case_search, the share below which lexemes are not
        listed, and the rows counted; None without statistics (the table was never analysed)."""
        bind = self.session.get_bind()
        entry = self._element_stats((bind.url.render_as_string(hide_password=True), column), LEXEME_STATS,
                                    {"column": column})
        return (entry[1], entry[2], entry[3]) if entry[1] else None

    def _element_stats(self, key: tuple, statement, values: dict) -> tuple[float, dict[str, float], float, float]:
        """(when read, lexeme -> share of rows, the share below which lexemes are not listed, rows counted) from the
        most common elements `statement` reads of pg_stats, kept per process for STATS_SECONDS under `key`."""
        entry = _STATS.get(key)
        if entry is None or time.monotonic() - entry[0] > STATS_SECONDS:
            row = self.session.execute(statement, values).first()
            shares, floor, rows = {}, 0.0, 0.0
            if row is not None and row[0] and row[1]:
                elems, freqs = list(row[0]), list(row[1])
                shares = dict(zip(elems, freqs[:len(elems)], strict=True))
                floor = freqs[len(elems)] if len(freqs) > len(elems) else min(shares.values())
                rows = float(row[2] or 0)
            entry = _STATS[key] = (time.monotonic(), shares, floor, rows)
        return entry

    def _share(self, node: ql.Node, shares: dict[str, float], floor: float) -> float:
        """An estimate of the share of rows holding a concept: its most common alternative (OR), its rarest part
        (AND), a lexeme's listed share or, unlisted, half the smallest listed."""
        if isinstance(node, ql.Synonym):
            return shares.get(synonym_lexeme(node.group), floor / 2)
        if isinstance(node, ql.Term):
            if node.prefix:
                return 1.0
            alternatives = _ANALYSED.get(("plain", words_only(node.word)), ())
            lexemes = [m.replace("''", "'") for a in alternatives for m in _LEXEME_RE.findall(a)]
            return max((shares.get(x, floor / 2) for x in lexemes), default=floor / 2)
        if isinstance(node, ql.Phrase):
            return min(self._share(ql.Term(w), shares, floor) for w in node.words)
        if isinstance(node, ql.Or):
            return max(self._share(item, shares, floor) for item in node.items)
        if isinstance(node, ql.And):
            return min(self._share(item, shares, floor) for item in node.items)
        return 1.0

    def concept_weights(self, nodes: list, groups: list[ql.Synonym] = ()) -> tuple[list[float], list[float]] | None:
        """Each concept's weight, and each synonym group's of `groups`: its inverse document frequency (-ln of its
        share), over the concepts' mean (so the scores keep their scale beside SYNONYM_RANK);
        None without statistics. A group weighs by its own rarity, as each term does in BM25 (the Whoosh backend):
        a rare group ("aut dedere", met in the words "extradition nationals") is worth more than the common words
        that spell it (it weighed as its concept, whose most common word set its share: tuning split nDCG@10
        0.787 -> 0.793)."""
        stats = self.lexeme_shares() if len(nodes) > 1 else None
        if stats is None:
            return None
        shares, floor, _rows = stats

        def idf(node) -> float:
            # BM25's idf. Once, the full idf let a rare word of a question outweigh every other concept (tuning split
            # nDCG@10: none 0.781, -ln(share) 0.779, its square root 0.785); with synonym groups weighed by their own
            # rarity it ranks best (COORDINATION 1: square root 0.796, full 0.802; COORDINATION 0.7: 0.800, 0.811,
            # questions 0.710 -> 0.752). ts_rank's length normalisation 1 added 0.004 more, but then the full score
            # orders by what the RUM index, which picks the candidates, does not know (the lengths).
            return -math.log(min(max(self._share(node, shares, floor), 1e-6), 0.99))

        weights = [idf(node) for node in nodes]
        mean = sum(weights) / len(weights)
        if mean <= 0:
            return None
        return [w / mean for w in weights], [idf(group) / mean for group in groups]

    def _mean_groups(self) -> float | None:
        """How many synonym groups a row names on average (their lexemes' shares summed: the groups too rare to be
        listed add little), or None without statistics: rank_expression's normalisation of the groups' bonus."""
        stats = self.lexeme_shares()
        mean = sum(share for lexeme, share in stats[0].items() if lexeme.startswith("~")) if stats else 0.0
        return mean if mean > 0 else None

    def _rank_items(self, node) -> frozenset[str]:
        """The distinct items (lexemes, prefixes) of a node's rank tsquery (compile(ranking=True)), as read from the
        analysed alternatives (prepare() analysed every word first)."""
        if isinstance(node, ql.Term):
            if node.prefix:
                return frozenset({words_only(node.word) + ":*"})
            alternatives = _ANALYSED.get(("plain", words_only(node.word)), ())
            return frozenset(m for a in alternatives for m in _LEXEME_RE.findall(a)) or frozenset({NOTHING})
        if isinstance(node, ql.Phrase):
            return frozenset().union(*(self._rank_items(ql.Term(w)) for w in node.words))
        if isinstance(node, ql.Synonym):
            return frozenset({synonym_lexeme(node.group)})
        if isinstance(node, ql.Or):
            return frozenset().union(*(self._rank_items(i) for i in ql.without_redundant_phrase(node, True)))
        if isinstance(node, ql.And):
            return frozenset().union(*(self._rank_items(i) for i in node.items if not isinstance(i, ql.Not)))
        return frozenset()

    def _rank_scale(self, node) -> int:
        """What a concept's ts_rank is multiplied by so that it sums what its items score rather than averaging it:
        PostgreSQL's calc_rank_or divides by the number of distinct items of the tsquery, and a concept's items are
        its alternatives (each stemmer's lexeme, the unstemmed word, its synonym group's lexeme), of which a case
        holds one or two. Averaged, "treaty" ('treati' | 'treaty') weighed half, "basis" ('basi' | 'bas' | 'basis')
        a third of "without" ('without'), however relevant: a question's filler words outranked its subject
        (tuning split nDCG@10 0.816 -> 0.822 with SYNONYM_RANK 0.5 -> 3, questions 0.755 -> 0.779; as Whoosh sums
        its alternatives' BM25F). A tsquery whose top is AND (a phrase, ranked by calc_rank_and) is not averaged: 1."""
        if isinstance(node, ql.Or) and len(ql.without_redundant_phrase(node, True)) == 1:
            return self._rank_scale(ql.without_redundant_phrase(node, True)[0])
        if isinstance(node, (ql.And, ql.Phrase)):
            return 1
        return max(1, len(self._rank_items(node)))

    def rank_expression(self, query: ql.Query, vector, weighted: bool = True):
        """The score of a row: ts_rank of `vector` for each of the query's concepts, weighed by how rare the concept
        is (concept_weights; `weighted` False, or no statistics: all alike) and summed over its items (_rank_scale),
        plus SYNONYM_RANK for each synonym group held (weighed as its concept; `weighted`, normalised by the groups
        the row names: SYNONYM_B), times the share of concepts it holds to the power COORDINATION and the closeness
        bonus (documents.py says why; the constants both engines use)."""
        plan = self._rank_plan(query, weighted)
        return self._rank_sql(plan[0], vector, plan[1]) if plan is not None else None

    def _rank_plan(self, query: ql.Query, weighted: bool = True) -> tuple[tuple[int, int, bool, int], dict] | None:
        """The score of `query` (rank_expression) as its shape (the concepts, the synonym groups, whether the groups'
        bonus is normalised, the pairs) and its values by name (VALUE_NAMES): each concept's rank tsquery (v_rc<i>)
        and its weight times its scale (v_rk<i>), each group's tsquery (v_rg<j>) and weight (v_rgw<j>), the groups a
        row names on average (v_rmean), each pair's phrase (v_rp<k>), the concepts and pairs counted (v_rn, v_rpn);
        the shape padded above RANK_PADDED_FROM (_padded); None without a concept to rank."""
        compiled = [(node, c) for node, c in ((node, self.compile_text(node, ranking=True)) for node in query.concepts)
                    if c is not None]
        if not compiled:
            return None
        groups = _synonyms_of(query) if SYNONYM_RANK else []
        found = self.concept_weights([node for node, _c in compiled], groups) if weighted else None
        weights, group_weights = found if found is not None else (None, [1.0] * len(groups))
        # each concept's rank (the sum of its items': _rank_scale) weighed by how rare the concept is
        weights = weights or [1.0] * len(compiled)
        values: dict[str, object] = {}
        for i, ((node, c), weight) in enumerate(zip(compiled, weights, strict=True)):
            values[f"v_rc{i}"], values[f"v_rk{i}"] = c, weight * self._rank_scale(node)
        for j, (group, weight) in enumerate(zip(groups, group_weights, strict=True)):
            values[f"v_rg{j}"], values[f"v_rgw{j}"] = self.compile_text(group), weight
        mean = self._mean_groups() if groups and weighted else None
        if mean is not None:
            values["v_rmean"] = mean
        for k, pair in enumerate(query.pairs):
            values[f"v_rp{k}"] = self.compile_text(ql.Phrase(pair))
        # above RANK_PADDED_FROM, padded to the next of RANK_PADDED: concepts and groups of weight 0, pairs, that
        # nothing holds (NOTHING); the concepts and pairs counted are the query's own (v_rn, v_rpn)
        n, g, p = (_padded(len(compiled)), _padded(len(groups)), _padded(len(query.pairs)))
        values.update({f"v_rc{i}": NOTHING for i in range(len(compiled), n)}
                      | {f"v_rk{i}": 0.0 for i in range(len(compiled), n)}
                      | {f"v_rg{j}": NOTHING for j in range(len(groups), g)}
                      | {f"v_rgw{j}": 0.0 for j in range(len(groups), g)}
                      | {f"v_rp{k}": NOTHING for k in range(len(query.pairs), p)})
        values["v_rn"], values["v_rpn"] = len(compiled), len(query.pairs)
        return (n, g, mean is not None, p), values

    @staticmethod
    def _rank_sql(shape: tuple[int, int, bool, int], vector, values: Mapping[str, object]):
        """The score of a plan's `shape` (_rank_plan) over `vector`, its values named parameters bound to `values`."""
        n, groups, normalised, pairs = shape
        concepts = [_tsquery_value(f"v_rc{i}", values) for i in range(n)]
        score = reduce(lambda a, b: a + b, [_value(f"v_rk{i}", values, Float) * rank(vector, c)
                                            for i, c in enumerate(concepts)])
        if groups:
            held_synonyms = [_value(f"v_rgw{j}", values, Float)
                             * cast(cast(vector.op("@@")(_tsquery_value(f"v_rg{j}", values)), Integer), Float)
                             for j in range(groups)]
            bonus = SYNONYM_RANK * reduce(lambda a, b: a + b, held_synonyms)
            if normalised:  # BM25's length normalisation of the groups the row names, at most 1 (SYNONYM_B)
                named = cast(func.length(func.ts_filter(vector, literal_column("'{d}'::\"char\"[]"))), Float)
                bonus = bonus * func.least(1.0, (SYNONYM_K1 + 1) / (
                    1 + SYNONYM_K1 * (1 - SYNONYM_B + SYNONYM_B * named / _value("v_rmean", values, Float))))
            score = score + bonus
        if n > 1:  # (a padded shape is of more than one concept: _padded)
            held = reduce(lambda a, b: a + b, [cast(vector.op("@@")(c), Integer) for c in concepts])
            score = score * func.power(cast(held, Float) / _value("v_rn", values, Integer), COORDINATION)
        if pairs:
            near = reduce(lambda a, b: a + b, [cast(vector.op("@@")(_tsquery_value(f"v_rp{k}", values)), Integer)
                                               for k in range(pairs)])
            score = score * (1 + PROXIMITY * cast(near, Float) / _value("v_rpn", values, Integer))
        return score

    def _weights_key(self, query: ql.Query) -> tuple | None:
        """What a rank expression of `query` is weighed by beside the query: the lexeme statistics it read (their
        database and when they were read), for a query of several concepts (concept_weights) or of a synonym group
        (_mean_groups); None otherwise."""
        if len(query.concepts) <= 1 and not _synonyms_of(query):
            return None
        self.lexeme_shares()  # read again when older than STATS_SECONDS
        url = self._url()
        entry = _STATS.get((url, "rank_document"))
        return url, entry[0] if entry is not None else None

    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        kept = self._kept_top(matches, sort, limit)
        if kept is not None:
            return kept
        matches.rare_best = None  # (set by _max_score_top for this page only)
        ids = self._ranked_top(matches, sort, limit)
        rare = matches.rare_best
        if rare and limit is not None:
            return self._with_rare_best(matches, ids, rare, limit)
        return ids

    def _with_rare_best(self, matches: Matches, ids: list[int], rare: list[tuple[float, tuple]],
                        limit: int) -> list[int]:
        """The page of the path that ranked (`ids`, by the full score) and the best holders of the query's rare
        concepts that max-score scored but could not prove the page with (`rare`: _max_score_top), merged: the first
        `limit` of both by the full score, then newest first, then the highest id (the full ranking's order). Why:
        the paths after max-score pick their candidates by a rank without the concepts' weights, which a rare concept
        hardly moves: at 100,000 cases, "Why was a request for mutual legal assistance on cocaine trafficking
        refused?" got a page of which 11 of 20 did not say "refused" (the concept weighing most), where every case
        of the full ranking's page does; its best holders were scored already, and dropped (docs/decisions/0011)."""
        scored = {key[1]: (score, key) for score, key in rare}
        for score, key in self._impact_scores(matches, ids, []):
            scored[key[1]] = (score, key)
        best = sorted(scored.values(), reverse=True)
        return [key[1] for _score, key in best[:limit]]

    def _ranked_top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        """_top's page by the first path that answers (max-score, the impact lists, the tiers, the RUM index, the
        statement ranking the matches)."""
        where, tsquery = matches.handle
        years, by_date = self._by_date(matches, limit)
        ranking = self._ranking(matches, sort)
        if ranking is not None and limit is not None and matches.total > max(FULLY_RANKED, 5 * limit):
            bounded = self._max_score_top(matches, limit)
            if bounded is not None:
                return bounded
        if ranking is not None and limit is not None and matches.total > max(FULLY_RANKED, 5 * limit):
            listed = self._impact_top(matches, limit)
            if listed is not None:
                return listed
        if ranking is not None and limit is not None and matches.total > max(FULLY_RANKED, 5 * limit):
            tiered = self._tier_top(matches, limit)
            if tiered is not None:
                return tiered
        if ranking is not None and limit is not None and matches.total > max(FULLY_RANKED, 5 * limit):
            phased = self._tier_phase_top(matches, limit, list(by_date))
            if phased is not None:
                return phased
        if ranking is not None and limit is not None and self._rum_pays(matches, limit):
            return self._rum_top(matches, where, limit, list(by_date))
        two_phase = ranking is not None and limit is not None and matches.total > max(FULLY_RANKED, 5 * limit)
        statement = self._top_statement(matches, sort, limit, two_phase)
        with self._through_index(True if years else tsquery, _filtered(matches.filters)):
            return list(self.session.scalars(statement, self._values(matches)))

    @staticmethod
    def _by_date(matches: Matches, limit: int | None) -> tuple[bool, tuple]:
        """(Whether a year range without words selects through the selector lexemes, the order newest first)."""
        _where, tsquery = matches.handle
        # Beside words, the date is an expression ix_case_search_filed_on cannot serve (filed_on + 0): walking
        # that index the planner would test `document @@` (a TOASTed vector) on every row it passes, and its
        # estimate of how soon the page is full is a guess (a text query finds its matches through the GIN index).
        # Without words, the same with a year range: walking the date index newest first passed every newer case
        # before the range (45,000 rows read for 2011-2015 at 100,000 cases, 110 ms); the matches come from the
        # selector lexemes' GIN index instead, and only they are sorted.
        years = tsquery is None and limit is not None and any(matches.filters.get(k) for k in ("year_from", "year_to"))
        return years, _BY_DATE[tsquery is not None or years]

    def _ranking(self, matches: Matches, sort: str):
        """The rank expression of the page (kept per shape of rank, its values named), or None when it is not
        ranked."""
        _where, tsquery = matches.handle
        if tsquery is None or sort == "date" or ql.only_negative(matches.query.root):
            return None
        return _kept(("rank", matches.shape[0][0]), lambda: self._score(matches, CaseSearch.rank_document))

    def _score(self, matches: Matches, vector):
        """The full score of `matches`' query over `vector` (rank_expression), its values named (_search_values);
        None without a concept to rank."""
        rank_shape = matches.shape[0][0] if matches.shape[0] is not None else None
        return self._rank_sql(rank_shape, vector, matches.values) if rank_shape is not None else None

    def _top_statement(self, matches: Matches, sort: str, limit: int | None, two_phase: bool):
        """_top's statement (not the RUM path's), kept under everything it is made of."""
        where, tsquery = matches.handle
        years, by_date = self._by_date(matches, limit)
        ranking = self._ranking(matches, sort)

        def build():
            if ranking is None:
                order = list(by_date)
            else:  # ranked for the matching rows only, and only the first `limit` are returned
                order = [ranking.desc(), *by_date]
            conditions = where
            if tsquery is not None or years:  # the GIN index intersects the scope and the filters: only matches read
                conditions = self._selection(matches)
            statement = select(CaseSearch.case_id).where(*conditions).order_by(*order)
            if limit is not None:
                statement = statement.limit(limit)
                if two_phase:
                    statement = self._two_phase(matches, conditions, limit, list(by_date))
            return statement

        return _kept(("top", *self._matches_key(matches), sort, limit, two_phase, RANK_CANDIDATES), build)

    def _kept_top(self, matches: Matches, sort: str, limit: int | None) -> list[int] | None:
        """The page _facet_counts read in the pass that counted the facets (_facets_and_page), when it is the page
        asked for: the same order and size."""
        kept = getattr(matches, "kept_top", None)
        if kept is None or limit is None or kept[0] != (sort, limit):
            return None
        return list(kept[1])

    def _facets_and_page(self, matches: Matches, sort: str, limit: int, parts: tuple[tuple[int, ...], ...] = ()):
        """_facet_counts' first statement with the page (see search): the first EXACT_TOTAL + 1 matching rows are read
        once, into a materialised CTE (their id, date, facet tokens and ranking vector, the vector as its TOAST
        pointer: only the rows ranked fetch it; the tokens as the row's array, joined where counted); the count and the
        tokens come from it, and, when the matches are
        more than EXACT_FACETS and all in it, each sample part's rows of `parts` and their tokens (an array of counts
        and one of joined tokens, in the order of `parts`: read again on their own, 8-13 ms for 5,000-10,000 matches
        at 100,000 cases); and the page too when every
        match is in it and they are few enough to rank there: newest first without a rank; every match scored in
        full up to max(FULLY_RANKED, 5 pages), as _top does; above, the two phases of _two_phase, up to PAGE_IN_PASS
        matches, and up to RANKED_IN_PASS where neither the RUM index nor the tier would pick the candidates of a page
        read on its own (_elsewhere: they read them for less than the pass ranks them). With more matches the page
        column is NULL
        (CASE evaluates the subquery of the branch taken only) and _top reads the page on its own, as before. Why:
        each statement selected the matches again, the text's GIN index evaluated once more (a few common words:
        10-20 ms at 100,000 cases); "court order account" in Asia, in Russian or Spanish (8,515 matches), 110 -> 86
        ms for the facets and the page."""
        read, fully, paged, ranked = self._pass_bounds(limit)  # (every match is read when there are at most `read`)
        # (the facet tokens kept as the row's array, joined into text only where they are counted: joining every
        # kept row's cost 4-13 ms for 8,515 matches, of which the sample counts a quarter)
        first = (select(CaseSearch.case_id.label("case_id"), CaseSearch.filed_on.label("filed_on"),
                        CaseSearch.facets.label("facets"), CaseSearch.rank_document.label("rank_document"))
                 .where(*self._selection(matches)).limit(read + 1)
                 .cte("matched").prefix_with("MATERIALIZED"))
        joined = func.array_to_string(first.c.facets, _SEPARATOR)
        counted, tokens = self._count_and_tokens(first)
        found = counted.c.found
        ranking = self._ranking(matches, sort)
        newest = (first.c.filed_on.desc().nulls_last(), first.c.case_id.desc())
        if ranking is None:
            branches = [(found <= read, select(first.c.case_id).order_by(*newest).limit(limit))]
        else:
            scored = select(first.c.case_id, _in_memory(first.c.rank_document).label("rank_document"),
                            first.c.filed_on).offset(0).subquery()
            branches = [(found <= fully, self._scored_page(matches, scored, limit))]
            if ranked > fully:
                rows = select(first.c.case_id, first.c.rank_document, first.c.filed_on)
                picked = self._scored_page(
                    matches, self._candidates_by_rank(matches, rows, first.c.rank_document, newest, limit), limit)
                # up to PAGE_IN_PASS matches, and up to RANKED_IN_PASS where neither the RUM index nor the tier would
                # pick the page's candidates (their ranges, bound at each search: _elsewhere)
                many = cast(found, Float)
                elsewhere = or_(many >= bindparam("rum_from", type_=Float),
                                and_(many >= bindparam("tier_low", type_=Float),
                                     many <= bindparam("tier_high", type_=Float)))
                branches.append((or_(found <= paged, and_(found <= ranked, ~elsewhere)), picked))
        page = case(*((condition, func.array(statement.scalar_subquery())) for condition, statement in branches))
        if not parts:
            return select(counted.c.found, tokens, page, null().label("part_rows"), null().label("part_tokens"))
        bucket = (first.c.case_id // SAMPLE_RUN) % SAMPLE_BUCKETS  # (as sample_bucket computes it)
        held = [bucket.in_(part) for part in parts]
        sampled = and_(found > EXACT_FACETS, found <= read)  # every match is in the CTE, their tokens not all joined
        part_rows = select(array([func.count().filter(h) for h in held])).scalar_subquery()
        part_tokens = select(array([func.string_agg(joined, _SEPARATOR).filter(h) for h in held])) \
            .scalar_subquery()
        return select(counted.c.found, tokens, page, case((sampled, part_rows)).label("part_rows"),
                      case((sampled, part_tokens)).label("part_tokens"))

    @staticmethod
    def _count_and_tokens(first):
        """The count of the rows kept in `first` (a materialised CTE with their `facets`) and their facet tokens
        joined, only when they are all that is counted (no more than EXACT_FACETS; the kept rows read again, from
        memory): above, they were joined and sent for nothing (8,515 matches: 1.9 MB)."""
        counted = select(func.count().label("found")).select_from(first).subquery()
        joined = select(func.string_agg(func.array_to_string(first.c.facets, _SEPARATOR), _SEPARATOR)).scalar_subquery()
        return counted, case((counted.c.found <= EXACT_FACETS, joined)).label("tokens")

    @staticmethod
    def _pass_bounds(limit: int) -> tuple[int, int, int, int]:
        """The facets' pass's bounds for a page of `limit` (_facets_and_page, _page_in_pass): the rows it reads, the
        matches it scores every one of in full, the matches it ranks in two phases, and those it ranks in two phases
        where neither the RUM index nor the tier would pick the page's candidates."""
        read = max(EXACT_FACETS, EXACT_TOTAL)
        return read, min(max(FULLY_RANKED, 5 * limit), read), min(PAGE_IN_PASS, read), min(RANKED_IN_PASS, read)

    def _page_in_pass(self, matches: Matches, sort: str, limit: int, found: float) -> bool:
        """Whether the facets' pass ranks the page of `found` matches: the branches of _facets_and_page's CASE."""
        read, fully, paged, ranked = self._pass_bounds(limit)
        if self._ranking(matches, sort) is None:
            return found <= read
        if found <= fully or ranked <= fully:
            return found <= fully
        elsewhere = self._elsewhere(matches, limit)
        return found <= paged or (found <= ranked and not (
            found >= elsewhere["rum_from"] or elsewhere["tier_low"] <= found <= elsewhere["tier_high"]))

    def has_rum(self) -> bool:
        """Whether this database has the RUM index on rank_document (the rum extension may be absent: the GIN
        path then ranks). Looked up once per database and process."""
        bind = self.session.get_bind()
        key = bind.url.render_as_string(hide_password=True)
        if key not in _RUM:
            _RUM[key] = bool(self.session.scalar(HAS_RUM, {"name": RUM_INDEX}))
        return _RUM[key]

    def _rum_pays(self, matches: Matches, limit: int) -> bool:
        """Whether the RUM index should pick the candidates: it exists, there are more matches than candidates
        (fewer are all ranked anyway), and with filters, enough matches that few text matches are read in vain."""
        return matches.total > max(FULLY_RANKED, 5 * limit) and matches.total >= self._rum_from(matches)

    def _elsewhere(self, matches: Matches, limit: int) -> dict[str, float]:
        """For how many matches a page read on its own has its candidates picked by the RUM index (from rum_from:
        _rum_from) or the tier (from tier_low to tier_high: _tier_from), for less than the facets' pass would rank
        them (_facets_and_page): its statement's parameters."""
        tier = self._tier_from(matches, limit)
        low, high = (tier[1], tier[2]) if tier is not None else (math.inf, math.inf)
        return {"rum_from": self._rum_from(matches), "tier_low": low, "tier_high": high}

    def _rum_from(self, matches: Matches) -> float:
        """From how many matches the RUM index picks the candidates (_rum_pays): never without the index; any number
        without filters; with filters, RUM_MIN_FILTERED and RUM_MIN_SHARE of the text's matches (estimated)."""
        if not self.has_rum():
            return math.inf
        if not any(matches.filters.get(kind) for kind in (*ENGINE_FILTERS, "year_from", "year_to")):
            return 0
        text_matches = self._text_matches(matches.query)
        return max(RUM_MIN_FILTERED, RUM_MIN_SHARE * text_matches if text_matches is not None else 0)

    def _text_matches(self, query: ql.Query) -> float | None:
        """An estimate of the rows whose ranking vector holds any of the query's concepts (what the RUM index
        ranks), from the lexeme statistics as if the concepts were independent; None without statistics."""
        stats = self.lexeme_shares()
        if stats is None:
            return None
        shares, floor, rows = stats
        missing = 1.0
        for node in query.concepts:
            missing *= 1.0 - min(1.0, self._share(node, shares, floor))
        return rows * (1.0 - missing)

    def _rum_top(self, matches: Matches, where: list, limit: int, by_date: list) -> list[int]:
        """The page through the RUM index: the best candidates in rank order from the index (`<=>`, RUM's rank of
        rank_document, weights as ts_rank's), each checked against the reader's scope, the filters and the whole
        query as it comes, then the full score (concepts held, closeness) orders them. Ordered by the distance
        alone: with a second key (the date, for ties at the cut) the planner sorts every match instead of reading
        the index in order (2.6 s against 80 ms at 100,000 cases), so which of several equally ranked cases at the
        cut become candidates is the index's choice. Matches whose
        rank_document holds none of the concepts (found in obstacles, solutions or lessons only) rank last, newest
        first, as on the GIN path."""
        rank_query = _tsquery_value("v_rcand", matches.values)

        def build():
            wanted = max(RANK_CANDIDATES, 5 * limit)
            distance = CaseSearch.rank_document.op("<=>", return_type=Float)(rank_query)
            # The reader's scope and the filters first, the whole query (`document @@`, a TOASTed vector) only on the
            # rows they keep: as separate conditions the planner evaluated the text first on every row the index
            # handed over (it deems both as cheap), decompressing documents a filter then refused.
            *cheap, text_condition = where
            checked = case((and_(true(), *cheap), text_condition), else_=false())
            # (the vector in memory for the full score: _in_memory; the index hands over rows in order, no sort below)
            candidates = (select(CaseSearch.case_id.label("case_id"),
                                 _in_memory(CaseSearch.rank_document).label("rank_document"),
                                 CaseSearch.filed_on.label("filed_on"))
                          .where(CaseSearch.rank_document.op("@@")(rank_query), checked)
                          .order_by(distance).limit(wanted).subquery())
            full = self._score(matches, candidates.c.rank_document)
            return (select(candidates.c.case_id)
                    .order_by(full.desc(), candidates.c.filed_on.desc().nulls_last(), candidates.c.case_id.desc())
                    .limit(limit))

        statement = _kept(("rum top", *self._matches_key(matches), limit, RANK_CANDIDATES), build)
        session = self.session
        bitmap, seq, memory = session.execute(RUM_SETTINGS).one()[:3]
        try:
            ids = list(session.scalars(statement, self._values(matches)))
        finally:
            session.execute(RUM_RESTORE, {"bitmap": bitmap, "seq": seq, "memory": memory})
        if len(ids) < limit and len(ids) < matches.total:  # every ranked candidate is in: the unranked follow
            rest = (select(CaseSearch.case_id)
                    .where(*where, ~CaseSearch.rank_document.op("@@")(rank_query))
                    .order_by(*by_date).limit(limit - len(ids)))
            with self._through_index(matches.handle[1]):
                ids += list(session.scalars(rest, self._values(matches)))
        return ids

    def _two_phase(self, matches: Matches, where: list, limit: int, by_date: list):
        """Many matches: plain ts_rank picks the best candidates (one function a row), and only those get the
        full score (a containment test per concept and per adjacent pair, each a pass over the vector)."""
        rows = select(CaseSearch.case_id.label("case_id"), CaseSearch.rank_document.label("rank_document"),
                      CaseSearch.filed_on.label("filed_on")).where(*where)
        candidates = self._candidates_by_rank(matches, rows, CaseSearch.rank_document, by_date, limit)
        return self._scored_page(matches, candidates, limit)

    def _candidates_by_rank(self, matches: Matches, rows, vector, by_date, limit: int):
        """The first phase of _two_phase: of `rows` (a select of case_id, rank_document and filed_on), the best
        max(RANK_CANDIDATES, 5 pages) by plain ts_rank of their `vector`, newest first among equals (`by_date`),
        their vectors in memory."""
        plain = rank(vector, _tsquery_value("v_rcand", matches.values))
        picked = rows.order_by(plain.desc(), *by_date).limit(max(RANK_CANDIDATES, 5 * limit)).subquery()
        # the candidates' vectors in memory (_in_memory), made after the cut: below the sort, for every match, each
        # would be one more fetch
        return select(picked.c.case_id, _in_memory(picked.c.rank_document).label("rank_document"),
                      picked.c.filed_on).offset(0).subquery()

    def _candidate_query(self, query: ql.Query) -> str:
        """The tsquery (as tsquery input text: v_rcand) whose rank picks the candidates of a page of many matches
        (_rum_top, _candidates_by_rank): the OR of the query's concepts, or, where they hold more than CANDIDATE_ITEMS items, of the rarest of them (by
        the lexeme statistics; in the order typed without them) while their items fit, at least one."""
        nodes = [n for n in query.concepts if self.compile_text(n, ranking=True) is not None]
        if sum(self._candidate_items(n) for n in nodes) > CANDIDATE_ITEMS:
            # each alternative of a concept on its own (one concept may be an OR of two dozen words)
            nodes = [u for n in nodes for u in (ql.without_redundant_phrase(n, True) if isinstance(n, ql.Or) else (n,))
                     if not isinstance(u, ql.Not) and self.compile_text(u, ranking=True) is not None]
            sizes = [self._candidate_items(n) for n in nodes]
            stats = self.lexeme_shares()
            order = sorted(range(len(nodes)), key=lambda i: self._share(nodes[i], stats[0], stats[1])) \
                if stats is not None else list(range(len(nodes)))
            chosen, items = set(), 0
            for i in order:
                if chosen and items + sizes[i] > CANDIDATE_ITEMS:
                    break
                chosen.add(i)
                items += sizes[i]
            nodes = [n for i, n in enumerate(nodes) if i in chosen]
        return " | ".join(f"( {self.compile_text(n, ranking=True)} )" for n in nodes)

    def _candidate_items(self, node) -> int:
        """A node's items in the rank of the candidates (_candidate_query), a prefix as CANDIDATE_PREFIX_ITEMS: it
        stands for every lexeme it begins."""
        return sum(CANDIDATE_PREFIX_ITEMS if item.endswith(":*") else 1 for item in self._rank_items(node))

    def _scored_page(self, matches: Matches, candidates, limit: int):
        """The first `limit` of `candidates` (case_id, rank_document in memory, filed_on) by the full score, then
        newest first, then the highest id."""
        full = self._score(matches, candidates.c.rank_document)
        return (select(candidates.c.case_id)
                .order_by(full.desc(), candidates.c.filed_on.desc().nulls_last(), candidates.c.case_id.desc())
                .limit(limit))

    def has_tiers(self) -> bool:
        """Whether this database has the weight tiers (TIERS' indexes, BOUNDS_TABLE: migration 5e4c0b0a1d1a). Looked
        up once per database and process."""
        key = self._url()
        if key not in _TIERS:
            _TIERS[key] = bool(self.session.scalar(HAS_TIERS, {"title": TIERS[0][1], "tier": TIERS[1][1],
                                                               "table": BOUNDS_TABLE}))
        return _TIERS[key]

    def _tier_rows(self, index: str, concepts: Iterable[Iterable[str]]) -> float:
        """The rows of a tier holding any lexeme of `concepts`, from the statistics of its index: a concept's share
        is its most common lexeme's (the alternatives of one word go together), concepts as if independent (a lexeme
        not listed: half the smallest share listed); infinite without statistics (never analysed)."""
        _read, shares, floor, rows = self._element_stats((self._url(), index), TIER_STATS, {"index": index})
        if not shares:
            return math.inf
        missing = 1.0
        for lexemes in concepts:
            missing *= 1.0 - max((shares.get(lexeme, floor / 2) for lexeme in lexemes), default=0.0)
        return rows * (1.0 - missing)

    def _tier_split(self, query: ql.Query) -> tuple[str, list[tuple[float, list[str]]], float, bool] | None:
        """For _tier_top: (the tsquery text of every lexeme the query's rank holds, any one of them; each concept's
        (weight times its scale over its items, its lexemes); SYNONYM_RANK times the groups' weights; whether the
        closeness factor applies), or None when a concept's score is not the sum of its lexemes' ranks: a prefix (a
        term per lexeme it matches), a phrase or an AND alone (calc_rank_and), or weights other than the bounds'."""
        if RANK_WEIGHTS != BOUND_WEIGHTS:
            return None
        split = self._additive_score(query)
        if split is None:
            return None
        concepts, groups, pairs = split
        every = dict.fromkeys(lexeme for _w, lexemes in concepts for lexeme in lexemes)
        return " | ".join(_quoted(lexeme) for lexeme in every), concepts, sum(w for w, _g in groups), pairs

    def _tier_top(self, matches: Matches, limit: int) -> list[int] | None:
        """The page by the full score, exactly, from the matches of a weight tier: those holding one of the query's
        lexemes in their title (or, when that is not enough, in their title or keywords), selected in the tier's
        index (the reader's scope and the filters checked on their rows; the query itself too unless holding a rank
        lexeme implies it), at most TIER_ROWS (the index's statistics say beforehand when a tier holds more), scored
        in full and ordered as the full ranking orders. When the last of the first `limit` scores more than any other
        match can, the page is the one ranking every match gives, ties included. Any other match holds the query's
        lexemes only below the tier's weights: each concept scores at most its weight times the sum of its lexemes'
        BOUNDS_TABLE bounds there, plus every synonym group, the coordination factor at most 1, the closeness factor
        at most 1 + PROXIMITY. Otherwise None (the caller ranks as before). Why: the RUM index ranks every posting of
        a common word before the first row ("central authority draft": 90,000 rows, 130-290 ms), where the cases
        holding it in a title or keywords are a few thousand."""
        if not self.has_tiers():
            return None
        split = _kept(("tiers", matches.query, self._weights_key(matches.query)),
                      lambda: self._tier_split(matches.query))
        if split is None:
            return None
        tier_query, concepts, synonyms, pairs = split
        lexemes = sorted({lexeme for _w, held in concepts for lexeme in held})
        session = self.session
        found = {lexeme: (below_a, low) for lexeme, below_a, low in session.execute(LEXEME_BOUNDS, {"lexemes": lexemes})}
        # a lexeme without positions ranks as one of weight D (ts_filter leaves it out of every vector)
        floor = RANK_WEIGHTS[0] / 1.64493406685
        budget = self._tier_budget(matches, limit)
        for level, (_name, index, weights, _column) in enumerate(TIERS):
            if self._tier_rows(index, [held for _w, held in concepts]) > budget:
                continue
            bound = sum(weight * sum(max(found.get(lexeme, (0.0, 0.0))[level], floor) for lexeme in held)
                        for weight, held in concepts)
            bound = (bound + synonyms) * ((1 + PROXIMITY) if pairs else 1.0)
            statement = _kept(("tier top", level, *self._matches_key(matches), TIER_ROWS),
                              lambda: self._tier_statement(matches, weights, tier_query))  # noqa: B023 (called now)
            with self._through_index(True):
                rows = session.execute(statement, self._values(matches, tier_limit=limit,
                                                               v_tier_query=tier_query)).all()
            if len(rows) == limit and rows[0][2] <= TIER_ROWS \
                    and (rows[-1][1] or 0.0) > bound * (1 + MAX_SCORE_MARGIN):
                return [case_id for case_id, _score, _n in rows]
        return None

    def _tier_from(self, matches: Matches, limit: int) -> tuple[str, float, float] | None:
        """For _tier_phase_top: (the tsquery text of the query's rank lexemes, and the range of matches over which
        the tier of titles and keywords is expected to hold at least twice the candidates and at most
        TIER_PHASE_ROWS), or None where it would not pay: no tiers, a query whose score is not a sum over its lexemes
        (_tier_split), no statistics, or a tier holding more than TIER_PHASE_SHARE of the text's matches (their
        intersection in two GIN indexes saves little, and the planner may test the tier on every match's row
        instead). The tier's share of the matches is taken as its share of the text's matches (the filters as
        independent of where a word stands)."""
        if not self.has_tiers():
            return None
        split = _kept(("tiers", matches.query, self._weights_key(matches.query)),
                      lambda: self._tier_split(matches.query))
        text = self._text_matches(matches.query) if split is not None else None
        if not text:
            return None
        tier_query, concepts, _synonyms, _pairs = split
        share = self._tier_rows(TIERS[1][1], [held for _w, held in concepts]) / text
        if not 0 < share <= TIER_PHASE_SHARE:
            return None
        return tier_query, 2 * max(RANK_CANDIDATES, 5 * limit) / share, TIER_PHASE_ROWS / share

    def _tier_phase_top(self, matches: Matches, limit: int, by_date: list) -> list[int] | None:
        """The page by the two phases of _two_phase, the candidates taken among the matches holding one of the query's
        rank lexemes in their title or keywords (the tier's GIN index and the text's, intersected: only their rows'
        vectors are fetched), where the tier is expected to hold enough of them and few of the matches (_tier_from).
        None when it holds fewer than the candidates (the caller ranks as before). Not proven, as the two phases are
        not: the plain ts_rank of a match without a query word in its title or keywords is its summary's (weight C,
        0.2 a position), below that of most tier holders. Measured at 100,000 cases, the path forced on the benchmark's
        31 combined queries of more than 1,000 matches: the full ranking's page for all 31 (as the two phases over
        every match), "central authority draft" in Africa or the Americas, in French or Russian (16,112 matches)
        115 -> 14 ms; with its gates, interleaved on the text and combined queries: 3,884 -> 3,807 ms in all,
        "bank secrecy" with two regions and two crime types 57 -> 38 ms, none slower (docs/decisions/0011)."""
        found = self._tier_from(matches, limit)
        if found is None or not found[1] <= matches.total <= found[2]:
            return None
        tier_query, _low, _high = found
        wanted = max(RANK_CANDIDATES, 5 * limit)

        def build():
            weights = TIERS[1][2]
            tier = literal_column(f"ts_filter(case_search.rank_document, '{weights}')", TSVECTOR) \
                .op("@@")(_tsquery_value("v_tier_query", {"v_tier_query": tier_query}))
            rows = select(CaseSearch.case_id.label("case_id"), CaseSearch.rank_document.label("rank_document"),
                          CaseSearch.filed_on.label("filed_on")).where(*self._selection(matches), tier)
            candidates = self._candidates_by_rank(matches, rows, CaseSearch.rank_document, by_date, limit)
            return self._scored_page(matches, candidates, limit).add_columns(func.count().over())

        statement = _kept(("tier phase", *self._matches_key(matches), limit, RANK_CANDIDATES), build)
        with self._through_index(True):
            rows = self.session.execute(statement, self._values(matches, v_tier_query=tier_query)).all()
        if not rows or rows[0][1] < wanted:
            return None
        return [case_id for case_id, _n in rows]

    def _tier_budget(self, matches: Matches, limit: int) -> float:
        """The most rows a tier may be expected to hold to be read (TIER_COST): fewer than what the other paths would
        rank, every posting of the text (RUM) or every match (the GIN path), and at most TIER_ROWS."""
        if self._rum_pays(matches, limit):
            return min(TIER_ROWS, (self._text_matches(matches.query) or matches.total) / TIER_COST)
        return min(TIER_ROWS, matches.total / 2)

    def _tier_statement(self, matches: Matches, weights: str, tier_query: str):
        """_tier_top's statement for the tier of `weights`: its matches (at most TIER_ROWS + 1), each scored in full,
        the first `tier_limit` in the full ranking's order, with how many were scored."""
        _where, tsquery = matches.handle
        years = {kind: matches.filters.get(kind) for kind in ("year_from", "year_to") if matches.filters.get(kind)}
        # the index's expression (constants of TIERS), then the reader's scope and the filters on its rows
        tier = literal_column(f"ts_filter(case_search.rank_document, '{weights}')", TSVECTOR) \
            .op("@@")(_tsquery_value("v_tier_query", {"v_tier_query": tier_query}))
        conditions = [self.scope(matches.viewer), *self.filter_conditions(matches.filters, indexed=False),
                      *self.filter_conditions(years)]
        if not _concepts_match(matches.query):  # (the TOASTed document only on rows the rest keeps)
            conditions = [case((and_(true(), *conditions), CaseSearch.document.op("@@")(tsquery)), else_=false())]
        rows = (select(CaseSearch.case_id, CaseSearch.filed_on, _in_memory(CaseSearch.rank_document).label("vector"))
                .where(tier, *conditions).limit(TIER_ROWS + 1).offset(0).subquery())
        score = self._score(matches, rows.c.vector).label("score")
        return (select(rows.c.case_id, score, func.count().over())
                .order_by(score.desc(), rows.c.filed_on.desc().nulls_last(), rows.c.case_id.desc())
                .limit(bindparam("tier_limit", type_=Integer)))

    def _max_score_split(self, query: ql.Query) -> tuple[list, list, float] | None:
        """For _max_score_top: (the rank tsqueries of the rare concepts as tsquery input text, their nodes, the upper bound of the
        full score of any row whose rank_document holds none of them), or None when the query does not split so.
        Rare: expected in at most MAX_SCORE_ROWS rows (lexeme statistics). The bound follows rank_expression term by
        term: each other concept's ts_rank at most RANK_ITEM_BOUND (no prefix among them: a prefix item adds one
        term per lexeme it matches) times its items (_rank_scale) and its weight, SYNONYM_RANK times the weight of every synonym group a rare
        concept does not imply, the coordination factor of the other concepts alone (a row holding none of the rare
        ones holds at most those), the closeness factor as if every pair were held."""
        stats = self.lexeme_shares()
        if stats is None or len(query.concepts) < 2:
            return None
        shares, floor, rows = stats
        compiled = [(node, c) for node, c in ((node, self.compile_text(node, ranking=True)) for node in query.concepts)
                    if c is not None]
        if len(compiled) < 2:
            return None
        nodes = [node for node, _c in compiled]
        groups = _synonyms_of(query)
        found = self.concept_weights(nodes, groups)
        weights, group_weights = found if found is not None else (None, [1.0] * len(groups))
        rare = [i for i, node in enumerate(nodes) if self._share(node, shares, floor) * rows <= MAX_SCORE_ROWS]
        common = [i for i in range(len(nodes)) if i not in rare]
        if not rare or not common or sum(self._share(nodes[i], shares, floor) for i in rare) * rows > MAX_SCORE_ROWS \
                or any(_has_prefix(nodes[i]) for i in common):
            return None
        implied = {group for i in rare for group in _implied_groups(nodes[i])}  # held: the row holds a rare concept
        # a concept's score is at most RANK_ITEM_BOUND per item (its rank times its items: _rank_scale)
        bound = RANK_ITEM_BOUND * sum((1.0 if weights is None else weights[i]) * self._rank_scale(nodes[i])
                                      for i in common)
        if groups and SYNONYM_RANK:
            bound += SYNONYM_RANK * sum(w for g, w in zip(groups, group_weights, strict=True) if g.group not in implied)
        bound *= (len(common) / len(nodes)) ** COORDINATION
        if query.pairs:
            bound *= 1 + PROXIMITY
        return [compiled[i][1] for i in rare], [nodes[i] for i in rare], bound

    def _max_score_top(self, matches: Matches, limit: int) -> list[int] | None:
        """The page by the full score, exactly, from the matches holding a rare concept (max-score pruning, as
        engines with block-max indexes do): every match whose rank_document holds one of the query's rare concepts
        (_max_score_split: a few thousand rows at most, selected with the scope and the filters in the text's GIN
        index) is scored in full, ordered as the full ranking orders (score, newest, id); when the last of the
        first `limit` scores more than any row holding none of them can (the split's bound), the page is the one
        ranking every match gives, ties included. Otherwise None (the caller ranks as before). Why: the RUM index
        ranks every posting of the common words ("JIT trafficking": 30,000 rows for "trafficking", where the 2,300
        holding "JIT" hold the page), and picks its candidates by a rank without the concepts' weights, which left
        cases of the common word only on that page (docs/decisions/0011)."""
        split = _kept(("max-score", matches.query, self._weights_key(matches.query)),
                      lambda: self._max_score_split(matches.query))
        if split is None:
            return None
        rare_queries, _nodes, bound = split
        rare_text = " | ".join(f"( {q} )" for q in rare_queries)
        values = {"v_rare": rare_text, "v_max_sel": self._selection_text(matches, text_=rare_text)}

        def build():
            years = {kind: matches.filters.get(kind) for kind in ("year_from", "year_to") if matches.filters.get(kind)}
            # rank_document's lexemes are among document's: a row holding a rare concept in the one holds it in the
            # other, so the GIN index intersects it with the query, the scope and the filters
            selected = _tsquery_value("v_max_sel", values)
            rare = _tsquery_value("v_rare", values)
            # the vector read once a row (_in_memory; OFFSET 0 keeps the subquery apart)
            rows = (select(CaseSearch.case_id, CaseSearch.filed_on,
                           _in_memory(CaseSearch.rank_document).label("vector"))
                    .where(CaseSearch.document.op("@@")(selected), *self.filter_conditions(years),
                           CaseSearch.rank_document.op("@@")(rare))
                    .offset(0).subquery())
            score = self._score(matches, rows.c.vector).label("score")
            return (select(rows.c.case_id, score, rows.c.filed_on)
                    .order_by(score.desc(), rows.c.filed_on.desc().nulls_last(), rows.c.case_id.desc())
                    .limit(bindparam("max_score_limit", type_=Integer)))

        statement = _kept(("max-score top", *self._matches_key(matches)), build)
        with self._through_index(True):
            rows = self.session.execute(statement, self._values(matches, max_score_limit=limit, **values)).all()
        if len(rows) < limit or (rows[-1][1] or 0.0) <= bound * (1 + MAX_SCORE_MARGIN):
            # not proven: the best holders of the rare concepts join the page of the path that ranks (_top)
            matches.rare_best = [(score or 0.0, (filed_on or date.min, case_id)) for case_id, score, filed_on in rows]
            return None
        return [case_id for case_id, _score, _filed_on in rows]

    def has_impacts(self) -> bool:
        """Whether this database has the impact-ordered lists (migration d8e2f5a1c6b9). Looked up once per database
        and process."""
        key = self._url()
        if key not in _IMPACTS:
            _IMPACTS[key] = bool(self.session.scalar(HAS_IMPACTS, {"impacts": IMPACTS_TABLE,
                                                                   "cuts": IMPACT_CUTS_TABLE}))
        return _IMPACTS[key]

    def make_impact_lists(self) -> None:
        """The impact-ordered lists made from the rows (a rebuild's last step, after _emptied emptied them before
        the rows were written, so that no cut listed them one by one): exact first rows and cuts."""
        if self.has_impacts():
            for statement in (MAKE_IMPACT_LISTS, MAKE_IMPACT_CUTS):
                self.session.execute(statement)

    def _impact_split(self, query: ql.Query) -> tuple[list[tuple[float, list[str]]], list[tuple[float, str]],
                                                        bool] | None:
        """For _impact_top: _additive_score, where the lists were ranked with the weights of the full score."""
        return self._additive_score(query) if RANK_WEIGHTS == IMPACT_WEIGHTS else None

    def _additive_score(self, query: ql.Query) -> tuple[list[tuple[float, list[str]]], list[tuple[float, str]],
                                                          bool] | None:
        """The full score (rank_expression) as a sum over lexemes: (each concept's weight times its scale over its
        items, and its lexemes; each synonym group's SYNONYM_RANK times its weight, and its lexeme; whether the
        closeness factor applies), or None where a concept's score is not the sum of its lexemes' ranks: a prefix
        (a term per lexeme it matches), a phrase or an AND alone (calc_rank_and)."""
        compiled = [(node, c) for node, c in ((node, self.compile_text(node, ranking=True)) for node in query.concepts)
                    if c is not None]
        if not compiled or not all(_additive(node) for node, _c in compiled):
            return None
        nodes = [node for node, _c in compiled]
        groups = _synonyms_of(query)
        found = self.concept_weights(nodes, groups)
        weights, group_weights = found if found is not None else ([1.0] * len(nodes), [1.0] * len(groups))
        concepts = []
        for node, weight in zip(nodes, weights, strict=True):
            items = self._rank_items(node)
            lexemes = sorted(_unquoted(item) for item in items if item != NOTHING)
            # ts_rank (calc_rank_or) averages over the tsquery's distinct items, the score multiplies by _rank_scale
            concepts.append((weight * self._rank_scale(node) / max(1, len(items)), lexemes))
        if not any(lexemes for _w, lexemes in concepts):
            return None
        held = [(SYNONYM_RANK * w, synonym_lexeme(g.group)) for g, w in zip(groups, group_weights, strict=True)] \
            if SYNONYM_RANK else []
        return concepts, held, bool(query.pairs)

    def _impact_top(self, matches: Matches, limit: int) -> list[int] | None:
        """The page by the full score from the impact-ordered lists (the threshold algorithm of engines with
        impact-ordered postings): the first IMPACT_READ holders of each of the query's common lexemes are read with
        their rank, every holder of its other (rare) lexemes is scored in full, then the listed cases, most likely
        first (`likely`), until no case left unscored can come before the last of the first `limit`. A case in none
        of the rows read scores at most what every list's last key allows: each lexeme's rank at most its list's
        last one read (its cut when the whole list was read), every synonym group held, every concept held
        (coordination factor 1), every pair close; where it could only tie with that bound, it is older (newest
        first, then id) than every list's last key not older than the kth. When that proves the page, it is the
        full ranking's, ties included. When it does not (a case never read may score as much), the best of at most
        IMPACT_SCORED cases scored in full is the page (IMPACT_BEST_EFFORT), as the RUM path's 200 candidates are:
        on the benchmark's 100,000 cases it was the full ranking's page for 40 of 46 text queries and readers (the
        RUM path: 21), sharing 90 % of its cases (RUM: 58 %). Any-word queries without filters or a year range only
        (a required word would refuse listed cases; beside filters, the other paths were as fast on the benchmark's
        combined queries, and exact on more of them: 46 of 50 pages against 44). None when the lists cannot answer,
        and the caller ranks as before.
        Why: the RUM index ranks every posting of a common word before it returns the first row ("MLA bank
        records": 57,000 of 100,000 cases, 90-400 ms), where a few hundred listed holders decide the page."""
        if any(matches.filters.get(kind) for kind in (*ENGINE_FILTERS, "year_from", "year_to")) \
                or not _concepts_match(matches.query) or not self.has_impacts():
            return None
        split = _kept(("impacts", matches.query, self._weights_key(matches.query)),
                      lambda: self._impact_split(matches.query))
        if split is None:
            return None
        concepts, groups, pairs = split
        lexemes = sorted({lexeme for _w, held in concepts for lexeme in held} | {lexeme for _w, lexeme in groups})
        lists: dict[str, list[tuple[float, tuple]]] = {}
        cuts: dict[str, tuple] = {}
        for lexeme, cut_impact, cut_filed, cut_id, impact, filed_on, case_id in self.session.execute(
                IMPACT_LISTS, {"lexemes": lexemes, "rows": IMPACT_READ}).all():  # (fetched at once)
            cuts[lexeme] = (cut_impact, (cut_filed or date.min, cut_id))
            rows = lists.setdefault(lexeme, [])
            if case_id is not None:
                rows.append((impact, (filed_on or date.min, case_id)))
        unlisted = [lexeme for lexeme in lexemes if lexeme not in cuts]
        if unlisted and not self._few_holders(unlisted):
            return None
        # a case not read in a list ranks there below its last row read (below its cut, when it was read whole)
        last = {lexeme: (rows[-1] if len(rows) >= IMPACT_READ else cuts[lexeme]) for lexeme, rows in lists.items()}
        known: dict[tuple, dict[str, float]] = {}  # (filed_on, id) of each case read -> its ranks read
        for lexeme, rows in lists.items():
            for impact, key in rows:
                known.setdefault(key, {})[lexeme] = impact
        factor = (1 + PROXIMITY) if pairs else 1.0
        least = RANK_WEIGHTS[0] / _CALC_RANK_OR_SCALE  # a lexeme held once, with weight D: the lowest rank it has

        # the score as a sum over lexemes: each lexeme's weight (the concepts holding it), each group's bonus
        weight_of: dict[str, float] = {}
        for weight, of in concepts:
            for lexeme in of:
                weight_of[lexeme] = weight_of.get(lexeme, 0.0) + weight
        bonus_of: dict[str, float] = {}
        for weight, lexeme in groups:
            bonus_of[lexeme] = bonus_of.get(lexeme, 0.0) + weight
        # every listed lexeme at its last rank read, every listed group held: what a case read nowhere may score
        unread_sum = sum(weight_of.get(x, 0.0) * impact + bonus_of.get(x, 0.0) for x, (impact, _key) in last.items())
        lowest = {x for x, (impact, _key) in last.items() if impact <= least * (1 + MAX_SCORE_MARGIN)}

        def at_most(held: Mapping[str, float], newer: Iterable[str]) -> tuple[float, bool, float]:
            """(The highest full score of a case whose ranks read are `held`, whether its score is below it, the score
            `likely` orders by): in the lists `newer`, where it was not read although its (filed_on, id) is newer
            than the last row's, its rank is below the last row's, so it is not held at all where that rank is the
            lowest there is; `likely` counts it as not held in any of them (most often it is not)."""
            score = unread_sum
            for lexeme, impact in held.items():
                if lexeme in last:  # (a group is held anyway where it is listed)
                    score += weight_of.get(lexeme, 0.0) * (impact - last[lexeme][0])
                else:
                    score += weight_of.get(lexeme, 0.0) * impact + (bonus_of.get(lexeme, 0.0) if impact else 0.0)
            below, likely = False, score
            for lexeme in newer:
                dropped = weight_of.get(lexeme, 0.0) * last[lexeme][0] + bonus_of.get(lexeme, 0.0)
                likely -= dropped
                if lexeme in lowest:
                    score -= dropped
                else:
                    below = True
            return score * factor, below, likely * factor

        candidates = []
        for key, held in known.items():
            newer = [x for x, (_impact, last_key) in last.items() if x not in held and key > last_key]
            bound, below, likely = at_most(held, newer)
            candidates.append((bound, key, below, likely))
        candidates.sort(key=lambda c: (c[3], c[1]), reverse=True)
        scored: list[tuple[float, tuple]] = self._impact_scores(matches, [], unlisted) if unlisted else []
        scored = list(dict.fromkeys(scored))  # (a holder of two unlisted lexemes comes once from each)
        seen = {key[1] for _s, key in scored}
        step = max(3 * limit, 100)  # (a round trip each: fewer, larger batches)
        while True:
            unscored = (key[1] for _b, key, _below, _likely in candidates if key[1] not in seen)
            if len(scored) >= limit:
                scored.sort(reverse=True)
                kth_score, kth_key = scored[limit - 1]
                high, low = kth_score * (1 + MAX_SCORE_MARGIN), kth_score * (1 - MAX_SCORE_MARGIN)
                batch = [key[1] for bound, key, below, _likely in candidates if key[1] not in seen
                         and (bound > high or (bound >= low and not below and key > kth_key))][:step]
                if not batch:
                    # a case in no row read: below every bound, and newer than the kth only below the lists whose
                    # last row is not newer than the kth
                    anywhere, _below, _likely = at_most({}, ())
                    newer, below, _likely = at_most({}, [x for x, (_i, k) in last.items() if k <= kth_key])
                    if kth_score > 0 and not (last and (anywhere > high or (newer >= low and not below))):
                        return [key[1] for _s, key in scored[:limit]]
                    if not IMPACT_BEST_EFFORT:
                        return None
                    batch = list(itertools.islice(unscored, step))  # not proven: the next most likely
            else:
                batch = list(itertools.islice(unscored, step))
            batch = batch[:IMPACT_SCORED - len(seen)]
            if not batch:  # every case read scored, or as many as IMPACT_SCORED
                return self._impact_best(scored, limit)
            seen.update(batch)
            scored += self._impact_scores(matches, batch, [])

    @staticmethod
    def _impact_best(scored: list[tuple[float, tuple]], limit: int) -> list[int] | None:
        """Where the lists cannot prove the page (IMPACT_BEST_EFFORT): the best `limit` of the cases scored, when
        they are enough and the last of them scores above 0 (a case holding none of the concepts in its ranking
        vector, found elsewhere in its text, is ordered by date: the usual paths rank)."""
        scored.sort(reverse=True)
        if not IMPACT_BEST_EFFORT or len(scored) < limit or scored[limit - 1][0] <= 0:
            return None
        return [key[1] for _s, key in scored[:limit]]

    def _few_holders(self, unlisted: list[str]) -> bool:
        """Whether the unlisted lexemes are expected in few rows (IMPACT_UNLISTED): made common since the lists
        were made, or never analysed, their holders would all be scored."""
        stats = self.lexeme_shares()
        if stats is None:
            return False
        shares, floor, rows = stats
        return sum(shares.get(lexeme, floor) for lexeme in unlisted) * rows <= IMPACT_UNLISTED

    def _impact_scores(self, matches: Matches, ids: list[int], unlisted: list[str]) -> list[tuple[float, tuple]]:
        """(full score, (filed_on, id)) of the cases `ids` and of every holder of an `unlisted` lexeme, those in the
        reader's scope (any-word queries: holding a lexeme of the rank is a match)."""
        values = {"impact_ids": ids}
        if unlisted:
            values["impact_unlisted"] = rare = " | ".join(_quoted(lexeme) for lexeme in unlisted)
            values["v_impact_sel"] = f"( {rare} ) & {self.selector_text(matches.viewer, matches.filters)}"
        statement = _kept(("impact scores", *self._matches_key(matches), bool(unlisted)),
                          lambda: self._impact_statement(matches, values))
        with self._through_index(True):
            rows = self.session.execute(statement, self._values(matches, **values)).all()
        return [(score or 0.0, (filed_on or date.min, case_id)) for case_id, score, filed_on in rows]

    def _impact_statement(self, matches: Matches, values: Mapping[str, object]):
        vector = _in_memory(CaseSearch.rank_document).label("vector")
        years = {kind: matches.filters.get(kind) for kind in ("year_from", "year_to") if matches.filters.get(kind)}
        listed = (select(CaseSearch.case_id, CaseSearch.filed_on, vector)
                  .where(CaseSearch.case_id == any_(cast(bindparam("impact_ids"), ARRAY(Integer))),
                         self.scope(matches.viewer), *self.filter_conditions(matches.filters, indexed=False)))
        if "impact_unlisted" in values:  # (the scope and the facet filters in the text's GIN index, the years on the rows)
            rare = cast(bindparam("impact_unlisted", type_=String), TSQUERY)
            held = (select(CaseSearch.case_id, CaseSearch.filed_on, vector)
                    .where(CaseSearch.document.op("@@")(_tsquery_value("v_impact_sel", values)),
                           CaseSearch.rank_document.op("@@")(rare), *self.filter_conditions(years)))
            listed = listed.union_all(held)
        rows = listed.subquery()
        score = self._score(matches, rows.c.vector)
        return select(rows.c.case_id, score, rows.c.filed_on)

    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        """The facet counts and the total (same conditions; no list of ids), every statement one condition of the
        text's GIN index (selector lexemes: the scope, the filters and a sample are intersected there). The facet
        tokens of the first EXACT_FACETS + 1 matching rows come back first, joined into one text, in the statement
        that counts the first EXACT_TOTAL + 1 matches: when there are no more than EXACT_FACETS, they are all and are
        counted exactly (one statement that reads no further). Above, the tokens of a fixed sample of the matches
        (the rows of the sample buckets SAMPLE_PARTS, taken in order until MIN_SAMPLE rows; only those rows are read)
        give the counts, each scaled by the matches over the sampled matches (at least 1, at most the total), and
        `matches.facets_exact` says so; the total is that first count when it is at most EXACT_TOTAL, and the
        sample's estimate otherwise (`matches.total_exact` False). (Counting apart, after the sample, read the first
        rows twice: 5,220 filtered matches took five statements, 150 ms under load, where this takes three.) When
        the sample is read first and puts the matches far above EXACT_FACETS, the first rows are not read: the total
        is counted exactly when the sample says it may be at most EXACT_TOTAL (a count that stops reading after
        EXACT_TOTAL + 1). Why: counting every token of 90,000 matches (a million, unnested and hashed by the
        executor) took 150 ms of a 50 ms budget, and reading every match's row to count it 60-140 ms
        (docs/decisions/0011)."""
        kinds = tuple(kinds)
        counts: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        separator, joined = _SEPARATOR, _JOINED
        session = self.session
        stats = self.lexeme_shares()
        # Where the table may hold many more than EXACT_TOTAL rows and the lexeme statistics expect more than twice
        # EXACT_FACETS matches, the sample's first part is read first: when it puts the matches above ESTIMATE_ABOVE
        # times EXACT_FACETS, the first EXACT_FACETS + 1 are not read (a word in a third of 100,000 cases: 5,001 rows
        # read for nothing, 46 of 326 ms under load). Expected fewer, the sample would be a statement more.
        expected = self._expected_matches(matches) if stats is not None else math.inf
        sample_first = stats is not None and stats[2] > ESTIMATE_ABOVE * max(EXACT_FACETS, EXACT_TOTAL) \
            and expected > 2 * EXACT_FACETS
        parts = iter(SAMPLE_PARTS)
        sampled, buckets, sample = 0, 0, Counter()

        def take(part: tuple[int, ...], n: int, part_tokens: str | None) -> None:
            nonlocal sampled, buckets, sample
            sampled, buckets, sample = sampled + n, buckets + len(part), sample + _tokens(part_tokens)

        def read_part(part: tuple[int, ...]) -> None:
            statement = _kept(("sample part", *self._matches_key(matches)),
                              lambda: select(func.count(), func.string_agg(joined, separator))
                              .where(*self._selection(matches, part)))
            take(part, *session.execute(statement, self._values(matches, v_sel_b=self._selection_text(matches, part)))
                 .one())

        page = _PAGE.get()
        pass_parts = None  # [(part, its rows, their tokens)]: the sample's other parts, as the facets' pass read them
        with self._through_index(True):
            if sample_first:
                read_part(next(parts))
            found, counted = EXACT_FACETS + 1, None  # (counted: the first count, when the first rows were read)
            estimate = sampled * SAMPLE_BUCKETS / buckets if buckets else 0.0
            # The first rows are read when the sample was not read first or puts the matches at most ESTIMATE_ABOVE
            # times EXACT_FACETS; with a page the pass would rank, up to EXACT_TOTAL too: then the facets' pass counts
            # them, reads the sample's other parts among them and ranks the page, where _count_and_parts counted and
            # sampled and the page was read on its own ("court order account" in Asia, 2009-2012: 5,845 matches, four
            # statements). (Where the pass would leave the page out, its kept rows cost more than that count: "JIT
            # trafficking" in French or Spanish, 7,840 matches, 15 -> 24 ms.)
            if not sample_first or estimate <= ESTIMATE_ABOVE * EXACT_FACETS \
                    or (page is not None and estimate <= EXACT_TOTAL and self._page_in_pass(matches, *page, estimate)):
                def tokens_statement():
                    # the count of the first EXACT_TOTAL + 1 rows (or EXACT_FACETS + 1) and their tokens when they
                    # are all that is counted, as the facets' pass does (_facets_and_page): the rows kept in a
                    # materialised CTE with their facets' array, joined into text only then. Joined and aggregated in
                    # one pass, every kept row's tokens were joined and sent for nothing above EXACT_FACETS ("court
                    # order account" in Asia, in Russian or Spanish: 8,515 matches, 33-51 -> 18-28 ms; 2,532 matches:
                    # 15-27 against 17-20). (Taking the first EXACT_FACETS + 1 rows' tokens alone by their
                    # row_number() doubled the statement where the matches are fewer: 17-29 -> 37-66 ms for about
                    # 2,000 filtered matches.)
                    first = select(CaseSearch.facets.label("facets")).where(*self._selection(matches)) \
                        .limit(max(EXACT_FACETS, EXACT_TOTAL) + 1).cte("matched").prefix_with("MATERIALIZED")
                    counted, tokens = self._count_and_tokens(first)
                    return select(counted.c.found, tokens)

                if page is not None:  # the page too, when the matches are few enough: see _facets_and_page
                    sort, limit = page
                    remaining = tuple(parts)
                    parts = iter(remaining)
                    # the sample's parts in the pass where the statistics do not put the matches far below
                    # EXACT_FACETS (building them into every pass's statement cost more than it saved)
                    in_pass = remaining if sample_first or expected > EXACT_FACETS / 2 else ()
                    # (the thresholds are in the statement)
                    thresholds = (FULLY_RANKED, PAGE_IN_PASS, RANKED_IN_PASS, EXACT_FACETS, EXACT_TOTAL, SAMPLE_RUN,
                                  SAMPLE_BUCKETS, RANK_CANDIDATES)
                    statement = _kept(("facets+page", *self._matches_key(matches), sort, limit, thresholds, in_pass),
                                      lambda: self._facets_and_page(matches, sort, limit, in_pass))
                    found, tokens, top, rows_of, tokens_of = session.execute(
                        statement, self._values(matches, **self._elsewhere(matches, limit))).one()
                    if top is not None:
                        matches.kept_top = (page, top)
                    if rows_of is not None:  # (more than EXACT_FACETS matches, all of them read)
                        pass_parts = list(zip(in_pass, rows_of, tokens_of, strict=True))
                else:
                    found, tokens = session.execute(_kept(("facets", *self._matches_key(matches), EXACT_FACETS,
                                                           EXACT_TOTAL), tokens_statement), self._values(matches)).one()
                counted = found
            if found <= EXACT_FACETS:
                matches.total = found
                rows = None
                for kind, code, n in _exact_counts(tokens or ""):
                    if kind in counts:
                        counts[kind][code] = n
            else:
                if pass_parts is None and counted is None and sampled < MIN_SAMPLE \
                        and sampled * SAMPLE_BUCKETS / buckets <= EXACT_TOTAL:
                    # the first part says the matches are at most EXACT_TOTAL, to be counted (below): the count and the
                    # sample's other parts in one statement (_count_and_parts), taken in order as below while they are
                    # needed (up to ESTIMATE_ABOVE times EXACT_TOTAL the count may overflow: parts first, as below)
                    remaining = list(parts)
                    counted, counted_parts = self._count_and_parts(matches, remaining)
                    if counted <= EXACT_TOTAL:
                        pass_parts = counted_parts
                    parts = iter(remaining)  # (more than EXACT_TOTAL: the parts' rows were not all read, as below)
                if pass_parts is not None:
                    # the parts read with the count (by the pass or _count_and_parts: every match, at most
                    # EXACT_TOTAL, was read), taken in order while they are needed
                    for part, n, part_tokens in pass_parts:
                        if sampled >= MIN_SAMPLE:
                            break
                        take(part, n, part_tokens)
                    parts = iter(())
                elif counted is not None and counted <= EXACT_TOTAL and sampled < MIN_SAMPLE:
                    # the matches are counted: the parts MIN_SAMPLE of them should take (with the first part, when it
                    # was read first) are read in one statement (5,220 matches take all three: two statements fewer)
                    read_part(_sample_buckets(parts, counted, sampled))
                for part in parts:
                    if sampled >= MIN_SAMPLE:
                        break
                    read_part(part)
                estimate = sampled * SAMPLE_BUCKETS / buckets
                if counted is None and estimate <= ESTIMATE_ABOVE * EXACT_TOTAL:
                    # the first rows were not read, and the sample says there may be at most EXACT_TOTAL: counted,
                    # reading no further
                    counted = session.scalar(self._first_count(matches), self._values(matches)) or 0
                if counted is not None and counted <= EXACT_TOTAL:
                    matches.total = counted
                else:
                    matches.total = max(EXACT_TOTAL + 1, round(estimate))
                    matches.total_exact = False
                rows = self._estimated(matches.total, sampled, sample)
                matches.facets_exact = False
        for value, n in sorted(rows or (), key=lambda row: (-row[1], row[0])):
            kind, _sep, code = value.partition(":")
            if kind in counts:
                counts[kind][code] = n
        return counts

    def _expected_matches(self, matches: Matches) -> float:
        """The matches the lexeme statistics of `document` expect (the reader's scope, each facet filter and the text
        taken as independent; the years left out); infinite without statistics."""
        stats = self.lexeme_shares("document")
        if stats is None:
            return math.inf
        shares, floor, rows = stats

        def share(lexeme: str) -> float:
            return shares.get(lexeme, floor / 2)

        expected = rows * share(f"{SELECTOR}s:published")
        if not matches.viewer.vetted:
            expected *= share(f"{SELECTOR}v:public")
        for kind in ENGINE_FILTERS:
            codes = matches.filters.get(kind) or ()
            if codes:
                expected *= min(1.0, sum(share(f"{SELECTOR}f:{kind}:{code}") for code in codes))
        if matches.query:
            text = self._text_matches(matches.query)
            ranked = self.lexeme_shares()
            if text is not None and ranked is not None and ranked[2]:
                expected *= min(1.0, text / ranked[2])
        return expected

    @staticmethod
    def _estimated(total: int, sampled: int, seen: Counter) -> list[tuple[str, int]]:
        """Each token's count in the sample scaled to the matches: never 0 for a token seen, never above the
        total (a token the sample missed is not listed)."""
        if not sampled:
            return []
        scale = total / sampled
        return [(token, min(total, max(1, round(n * scale)))) for token, n in seen.items()]

    def _corrected_text(self, query: ql.Query, viewer: Viewer) -> str | None:
        """As every engine's, the typed words it asks about looked up first in one statement (inside reading())."""
        self._look_up_words(query, viewer)
        return super()._corrected_text(query, viewer)

    def _look_up_words(self, query: ql.Query, viewer: Viewer) -> None:
        """Inside reading(): whether search_words holds each typed word SearchBackend._corrected_text asks about
        (the first 8 plain words of 4 letters or more, folded, not numbers), in one statement for them all where
        _has_word made one each; a word a search of the block answered for (_finds_nothing) is not asked."""
        reading = self.session.info.get(READING)
        if reading is None:
            return
        known = reading.setdefault("words", {})
        finds = reading.get("finds", {})
        words = []
        for typed in query.plain_words[:8]:
            word = fold(typed)
            if len(word) < 4 or word.isdigit() or word in known or word in words:
                continue
            answered = finds.get((viewer, word))
            if answered is not None and answered[1] and _root_of(word) == answered[0]:
                continue
            words.append(word)
        if words:
            held = set(self.session.scalars(HAS_WORDS, {"words": sorted({w[:60] for w in words})}))
            for word in words:
                known[word] = word[:60] in held

    @contextmanager
    def _seqscan_allowed(self) -> Iterator[None]:
        """Inside reading(), once a statement has turned enable_seqscan off for the search (_through_index), a
        statement best read by scanning its table (the correction's candidates: 90,000 words at 100,000 cases, 4 ms
        scanned) was planned as a walk of its whole primary key instead (11.5 ms): the setting is on for it."""
        reading = self.session.info.get(READING)
        if reading is None or "previous" not in reading:
            yield
            return
        self.session.execute(SEQSCAN_SET, {"value": "on"})
        try:
            yield
        finally:
            self.session.execute(SEQSCAN_SET, {"value": "off"})

    def _has_word(self, word: str) -> bool:
        reading = self.session.info.get(READING)
        known = reading.setdefault("words", {}) if reading is not None else {}  # once per word in reading()
        if word not in known:
            known[word] = self.session.scalar(HAS_WORD, {"word": word[:60]}) is not None
        return known[word]

    def _count(self, word: str, viewer: Viewer, limit: int) -> int:
        """Rows holding the word as written (the "simple" configuration's lexeme), read up to `limit` only; a word
        the table's statistics list as that common is not counted (every typed word is asked about)."""
        stats = self.lexeme_shares("document")
        if stats is not None and stats[0].get(word, 0.0) * stats[2] >= limit:
            return limit
        reading = self.session.info.get(READING)
        known = reading.setdefault("words", {}) if reading is not None else {}  # as _has_word's
        present = known.get(word)
        if present is False:
            return 0
        # A word not looked up yet is looked up by the same statement (its count is 0 without it, as before): a
        # round trip fewer for every word a correction weighs (each candidate, each rare typed word).
        statement = _kept(("word count", viewer.vetted, present is None),
                          lambda: self._count_statement(viewer, present is None))
        with self._through_index(True):
            row = self.session.execute(statement, {"word": word[:60], "limit": limit}).one()
        if present is None:
            known[word] = present = bool(row[0])
        return (row[-1] or 0) if present else 0

    def _count_statement(self, viewer: Viewer, looked_up: bool):
        """_count's statement (the word and the limit bound): the count, after whether search_words holds the word
        when `looked_up`."""
        word = bindparam("word", type_=String)
        tsquery = func.plainto_tsquery(_config("simple"), word)
        rows = select(CaseSearch.case_id).where(self.scope(viewer), CaseSearch.document.op("@@")(tsquery)) \
            .limit(bindparam("limit", type_=Integer)).subquery()
        counted = select(func.count()).select_from(rows).scalar_subquery()
        if not looked_up:
            return select(counted)
        return select(exists(select(SearchWord.word).where(SearchWord.word == word)), counted)

    def _candidates(self, word: str) -> Iterator[str]:
        """Words of a similar length sharing the first letter, or the second (a typo in the first letter). Inside
        reading(), each is known to be in search_words (_has_word then looks none of them up again)."""
        n = len(word)
        # each condition as an index of migration b7d4e1f9a2c3 holds it, (letter, length): two ranges read, where a
        # scan tested every word (90,000 at 100,000 cases, 11 ms)
        length = func.length(SearchWord.word)
        statement = select(SearchWord.word).where(or_(
            and_(func.substr(SearchWord.word, 1, 1) == word[:1], length.between(n - 2, n + 2)),
            and_(func.substr(SearchWord.word, 2, 1) == word[1:2], length.between(n - 2, n + 2)),
        )).limit(20000)
        with self._seqscan_allowed():
            words = list(self.session.scalars(statement))
        reading = self.session.info.get(READING)
        if reading is not None:
            reading.setdefault("words", {}).update(dict.fromkeys(words, True))
        yield from words
