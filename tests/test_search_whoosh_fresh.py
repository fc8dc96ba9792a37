"""A Whoosh searcher is kept per thread while the index is unchanged: a repeated search does not list the index
folder again (Whoosh's up_to_date lists it to find the newest commit, several times a search), and the next search
after a commit reads that commit all the same."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from whoosh.filedb.filestore import FileStorage

from network.search.records import EVERYONE, RecordDocument, WhooshRecordIndex


def _post(number: int, body: str) -> RecordDocument:
    return RecordDocument(id=number, scope=["space:1"], created_at=datetime(2026, 1, number, tzinfo=UTC), body=body)


def test_a_quiet_index_folder_is_not_listed_again_and_a_commit_is_still_seen(tmp_path, monkeypatch):
    index = WhooshRecordIndex(tmp_path / "posts")
    index.index([_post(1, "Extradition was granted after a video hearing.")])
    listed = []
    listing = FileStorage.list
    monkeypatch.setattr(FileStorage, "list", lambda storage: listed.append(1) or listing(storage))
    quiet = time.time() - 60
    os.utime(tmp_path / "posts", (quiet, quiet))  # nothing written to the folder for a minute
    assert index.search("extradition", viewer=EVERYONE, suggest=False).total == 1
    listed.clear()
    for _ in range(3):
        assert index.search("extradition", viewer=EVERYONE, suggest=False).total == 1
    assert not listed
    index.index([_post(2, "Extradition was refused: the hearing was not held.")])
    assert index.search("extradition", viewer=EVERYONE, suggest=False).total == 2
    index.delete([1])
    assert index.search("extradition", viewer=EVERYONE, suggest=False).page_ids == []  # no page asked
    assert index.search("extradition", viewer=EVERYONE, page=(1, 10), suggest=False).page_ids == [2]
