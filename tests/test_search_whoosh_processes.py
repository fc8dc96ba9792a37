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
from network.search.whoosh_backend import WhooshBackend

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
