"""Whoosh's rebuild in several processes (`flask search reindex --processes N`, WhooshBackend.rebuild_processes):
each process indexes its share into a segment of its own; the index then answers every search as the one built
in one process does (the same totals, matches, facet counts and pages, up to the order of equal scores), and the
command line passes the number on."""
from __future__ import annotations

from datetime import date

import pytest

from network.search import indexer
from network.search.backend import ANONYMOUS, Viewer
from network.search.documents import SearchDocument, Version
from network.search.whoosh_backend import IncompleteRebuild, WhooshBackend

TITLES = ("Extradition of a fugitive", "Confiscation of a yacht", "Mutual legal assistance on bank records",
          "Entraide judiciaire et blanchiment", "Extradición por trata de personas", "Экстрадиция за мошенничество")


def _document(n: int) -> SearchDocument:
    language = ("en", "en", "en", "fr", "es", "ru")[n % 6]
    return SearchDocument(id=n, status="published", visibility="members" if n % 4 == 0 else "public",
                          when=date(2005 + n % 15, 1 + n % 12, 1), year=2005 + n % 15,
                          facets=[f"region:{('europe', 'asia', 'africa')[n % 3]}", "cooperation_form:mla"],
                          versions=[Version(language, title=TITLES[n % 6], summary=f"Case {n}: a request.")])


DOCUMENTS = [_document(n) for n in range(1, 241)]
QUERIES = ("extradition", "yacht confiscation", "bank records", "blanchiment", "trata", "экстрадиция",
           '"mutual legal assistance"', "extradi*", "case")
# "case" is in every summary, and the summaries are all of one length: every match scores alike, so any of them may
# make the page (Whoosh orders equal scores by document number, which the processes hand out in either order)
ALL_TIED = {"case"}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    single = WhooshBackend(tmp_path_factory.mktemp("one") / "index")
    assert single.rebuild(iter(DOCUMENTS)) == len(DOCUMENTS)
    several = WhooshBackend(tmp_path_factory.mktemp("two") / "index")
    several.rebuild_processes = 2
    assert several.rebuild(iter(DOCUMENTS)) == len(DOCUMENTS)
    return single, several


def test_the_processes_write_segments_of_their_own(engines):
    _single, several = engines
    assert several.count() == len(DOCUMENTS)
    with several._open().reader() as reader:
        assert len(list(reader.leaf_readers())) >= 2


@pytest.mark.parametrize("viewer", [ANONYMOUS, Viewer(vetted=True)], ids=["anonymous", "vetted"])
@pytest.mark.parametrize("text", QUERIES)
def test_every_search_is_answered_as_by_the_index_of_one_process(engines, viewer, text):
    single, several = engines
    one = single.search(text, {}, facets=("region",), page=(1, 10), viewer=viewer)
    two = several.search(text, {}, facets=("region",), page=(1, 10), viewer=viewer)
    assert one.total == two.total > 0
    assert one.facets == two.facets
    assert sorted(one.ids) == sorted(two.ids)
    assert len(one.page_ids) == len(two.page_ids) == min(10, one.total)
    assert set(two.page_ids) <= set(two.ids)
    if text in ALL_TIED:
        return
    # the same page up to the order of equal scores: Whoosh orders ties by document number, which the processes
    # hand out in another order (here a case's score is its title's: the summaries differ only by a number)
    title = {d.id: d.versions[0].title for d in DOCUMENTS}
    assert [title[i] for i in one.page_ids] == [title[i] for i in two.page_ids]


def test_the_command_line_passes_the_processes_on(app, monkeypatch):
    seen = {}

    def rebuild(kind, progress=None, exclusive=False, processes=1):
        seen[kind] = processes
        return 0

    monkeypatch.setattr(indexer, "rebuild", rebuild)
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--kind", "cases", "--processes", "2"])
    assert result.exit_code == 0, result.output
    assert seen == {"cases": 2}
    refused = app.test_cli_runner().invoke(args=["search", "reindex", "--processes", "0"])
    assert refused.exit_code != 0 and "--processes" in refused.output


def test_a_rebuild_whose_processes_lose_a_share_says_so(tmp_path, monkeypatch):
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild_processes = 2
    monkeypatch.setattr(WhooshBackend, "count", lambda self: len(DOCUMENTS) - 1)  # (a process's segment lost)
    with pytest.raises(IncompleteRebuild, match=f"indexed {len(DOCUMENTS) - 1} of {len(DOCUMENTS)}"):
        backend.rebuild(iter(DOCUMENTS))


def test_the_indexer_rebuilds_in_one_process_what_the_processes_left_short_and_sets_them_for_that_rebuild_only(
        app, tmp_path, monkeypatch):
    """indexer.rebuild(processes=N) sets the app's own engine to N processes for that rebuild, then back; a rebuild
    the processes left short is done again in one process, so the index is never left holding fewer documents."""
    import dataclasses

    engine = WhooshBackend(tmp_path / "index")
    kind = dataclasses.replace(indexer.kind_named("cases"), all_documents=lambda session: iter(DOCUMENTS))
    monkeypatch.setattr(indexer, "kind_named", lambda name: kind)
    monkeypatch.setattr(indexer, "_index", lambda index_kind: engine)
    rebuilt_in = []
    real = WhooshBackend.rebuild

    def rebuild(self, docs, progress=None):
        rebuilt_in.append(self.rebuild_processes)
        shown.append(progress)
        n = real(self, docs, progress)
        if len(rebuilt_in) == 1:  # the processes' rebuild: as if a share were lost
            raise IncompleteRebuild(f"indexed {n - 1} of {n}")
        return n

    shown: list = []
    monkeypatch.setattr(WhooshBackend, "rebuild", rebuild)
    with app.app_context():
        assert indexer.rebuild("cases", processes=2, progress=print) == len(DOCUMENTS)
    assert rebuilt_in == [2, 1]
    assert shown == [print, print]  # the rebuild done again shows its progress too
    assert engine.count() == len(DOCUMENTS) and engine.rebuild_processes == 1
    rebuilt_in.clear()
    monkeypatch.setattr(WhooshBackend, "rebuild", lambda self, docs, progress=None: rebuilt_in.append(
        self.rebuild_processes) or real(self, docs, progress))
    with app.app_context():
        assert indexer.rebuild("cases", processes=2) == len(DOCUMENTS)
    assert rebuilt_in == [2] and engine.rebuild_processes == 1  # (the app's engine as it was)
