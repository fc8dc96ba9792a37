"""Issue 11, item 5: what a Whoosh searcher keeps is bounded by what it holds, not by how many things it holds
(a year range is the reader's to choose: 2,000 kept sets of 10,000 documents each would be 1.7 GB)."""
from __future__ import annotations

from network.search import whoosh_backend


class Searcher:  # what _cached keeps its sets on: the searcher's attributes
    pass


def test_the_kept_document_sets_are_bounded_by_their_members(monkeypatch):
    monkeypatch.setattr(whoosh_backend, "DOCSETS_CACHE", 1_000)
    searcher = Searcher()
    for n in range(50):
        found = whoosh_backend._cached(searcher, ("year", n), lambda n=n: set(range(n, n + 100)))
        assert found == frozenset(range(n, n + 100))
    kept = searcher._docsets
    assert sum(len(members) for members in kept.values()) <= 1_000
    assert ("year", 49) in kept and ("year", 0) not in kept  # the least recently used went first
    whoosh_backend._cached(searcher, ("year", 40), lambda: set())  # used again: kept, not computed again
    assert list(kept)[-1] == ("year", 40) and kept[("year", 40)] == frozenset(range(40, 140))
