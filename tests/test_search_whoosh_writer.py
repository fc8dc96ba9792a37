"""A Whoosh commit that fails gives the index's write lock back (a full disk, a segment name already taken): the
next write proceeds instead of waiting its timeout and giving up until the process restarts."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("options", [{}, {"mergetype": None}])
def test_a_failed_commit_releases_the_write_lock(tmp_path, options):
    from whoosh import fields, index
    from whoosh.writing import CLEAR

    from network.search.whoosh_backend import commit_or_release

    options = {"mergetype": CLEAR} if "mergetype" in options else {}
    search_index = index.create_in(str(tmp_path), fields.Schema(text=fields.TEXT(stored=True)))
    writer = search_index.writer(timeout=0)
    writer.add_document(text="lost")

    def full_disk(**_options):
        raise OSError(28, "No space left on device")

    writer.commit = full_disk
    with pytest.raises(OSError, match="No space left"):
        commit_or_release(writer, **options)
    with search_index.writer(timeout=0) as again:  # LockError here if the lock were still held
        again.add_document(text="kept")
    assert [hit["text"] for hit in search_index.searcher().documents()] == ["kept"]


def test_both_whoosh_indexes_commit_through_it():
    import inspect

    import network.search.records as records
    import network.search.whoosh_backend as whoosh_backend

    for module in (records, whoosh_backend):
        source = inspect.getsource(module)
        assert ".commit(" not in source.replace("writer.commit(**options)", ""), module.__name__
