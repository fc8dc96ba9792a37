"""Whoosh's AndNot keeps a document it should leave out once updates have spread documents over several segments
(seen with Whoosh-Reloaded 2.7.5); And([x, Not(y)]) answers right on the same index. The case compiler therefore
never builds an AndNot: this file holds the index layout that shows the difference, and the compiler to it."""
from __future__ import annotations

import pytest
from whoosh import index
from whoosh import query as wq
from whoosh.fields import KEYWORD, NUMERIC, Schema


@pytest.fixture
def spread(tmp_path):
    """Four documents committed in three segments, then two of them replaced together (deleted where they were,
    written to a new segment): the layout under which AndNot goes wrong."""
    ix = index.create_in(tmp_path, Schema(cid=NUMERIC(int, unique=True, stored=True),
                                          f=KEYWORD(lowercase=False, commas=False)))
    for batch in (((1, "a"), (2, "b")), ((3, "b"),), ((4, "a"),)):
        writer = ix.writer()
        for cid, tags in batch:
            writer.update_document(cid=cid, f=tags)
        writer.commit()
    writer = ix.writer()
    writer.delete_by_term("f", "b")
    writer.update_document(cid=2, f="b x")
    writer.update_document(cid=3, f="b x y")
    writer.commit()
    return ix


def _cids(ix, q: wq.Query) -> set[int]:
    with ix.searcher() as searcher:
        return {hit["cid"] for hit in searcher.search(q, limit=None)}


def test_and_not_answers_right_where_the_layout_misleads_and_not(spread):
    term = lambda tag: wq.Term("f", tag)  # noqa: E731
    assert _cids(spread, wq.And([term("y"), wq.Not(term("b"))])) == set()
    assert _cids(spread, wq.And([term("x"), wq.Not(wq.Or([term("y"), term("a")]))])) == {2}
    assert _cids(spread, wq.And([wq.Every(), wq.Not(term("x"))])) == {1, 4}


def test_the_case_compiler_never_builds_an_and_not(app):
    from network.search.query import parse
    from network.search.whoosh_backend import WhooshBackend

    for text in ("extradition -fraud", "extradition NOT fraud", "-fraud", "bank -\"letter rogatory\" OR mla",
                 "a -b -c"):
        compiled = WhooshBackend.compile(WhooshBackend.__new__(WhooshBackend), parse(text).root)
        assert "ANDNOT" not in repr(compiled).upper(), (text, compiled)
