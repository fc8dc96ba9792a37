"""Folding and tokens (network/search/documents.py), what both engines index and look up: fold() by a table of
characters each folded alone, tokens() cutting CJK runs only in text that holds some. Checked against the
definitions they replaced, on any text (every script, combining marks, compatibility characters, case)."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network.search import documents
from network.search.documents import CJK_RE, WORD_RE, _split_cjk, fold, tokens


def reference_fold(text: str) -> str:
    """Lower case without accents: case folded, decomposed (NFKD), combining marks dropped."""
    if text.isascii():
        return text.lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))


def reference_tokens(text: str) -> list[str]:
    return [piece for word in WORD_RE.findall(reference_fold(text)) for piece in _split_cjk(word)]


@pytest.mark.parametrize(("text", "folded"), [
    ("Coopération judiciaire", "cooperation judiciaire"),
    ("EXTRADICIÓN", "extradicion"),
    ("Экстрадиция, организованной", "экстрадиция, организованнои"),  # й: и and a breve, dropped
    ("ﬁnancial ﬂows", "financial flows"),  # compatibility ligatures
    ("Straße", "strasse"),  # case folding, not lower case
    ("ΣΑΣ", "σασ"),  # no final sigma: each character alone
    ("المساعدة القانونية", "المساعدة القانونية"),
    ("司法协助", "司法协助"),
    ("한국", "한국"),  # Hangul decomposes into jamo: folded alike in documents and queries
    ("e\u0301", "e"),  # a combining mark alone
])
def test_known_foldings(text, folded):
    assert fold(text) == reference_fold(text)
    if text != "한국":
        assert fold(text) == folded


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_fold_is_the_definition_on_any_text(text):
    assert fold(text) == reference_fold(text)


_MIXED = st.text(alphabet=st.sampled_from("ab é\u0301ЖжИй司法协助한국 ,.-_'ﬁΣ1"), max_size=30)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), _MIXED))
def test_tokens_are_the_definition_on_any_text(text):
    assert tokens(text) == reference_tokens(text)


def test_cjk_runs_are_still_cut_into_bigrams():
    assert tokens("司法协助 request") == ["司法", "法协", "协助", "request"]
    assert CJK_RE.search(fold("司法")) and not CJK_RE.search(fold("Coopération"))


def test_the_table_keeps_at_most_its_bound_and_folds_the_rest_all_the_same(monkeypatch):
    """A text of many distinct characters (anybody may send one) does not grow the table beyond FOLDING_KEPT: the
    characters past it are folded each time, the same."""
    table = documents._Folding()
    monkeypatch.setattr(documents, "_FOLDING", table)
    monkeypatch.setattr(documents, "FOLDING_KEPT", 50)
    text = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 3000)) + "Coopération ÉTÉ ﬁ"
    assert fold(text) == reference_fold(text)
    assert len(table) == 50
    assert fold(text) == reference_fold(text) and len(table) == 50
