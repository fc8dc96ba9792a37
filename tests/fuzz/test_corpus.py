"""The corpus of hostile strings: every class the suite promises is there, and every line of every file reads."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import classes, corpus, invalid_bytes, load

PROMISED = {"header-injection", "control", "bidi", "zero-width", "separators", "scripts", "url-schemes", "formula",
            "nesting", "numbers", "long", "filenames", "sql", "templates", "markdown-bombs", "surrogates",
            "invalid-utf8", "found"}


def test_every_promised_class_has_a_file_and_every_line_reads():
    assert PROMISED <= set(classes())
    for name in sorted(PROMISED - {"found"}):
        assert load(name), f"corpus/{name}.txt is empty"


def test_the_classes_hold_what_their_names_say():
    assert any("\r\n" in text and "Bcc:" in text for text in load("header-injection"))
    assert "\u0000" in load("control") and any("\u202e" in text for text in load("bidi"))
    assert max(len(text) for text in load("long")) >= 100_000
    assert any(text.startswith("=?") for text in load("header-injection"))
    assert "1e309" in load("numbers") and "99999999999999999999" in load("numbers")
    assert any(text.lower().startswith("javascript:") for text in load("url-schemes"))
    assert "\ud800" in load("surrogates")
    for raw in invalid_bytes():
        if raw.startswith(b"\xef\xbb\xbf"):  # the BOM line (finding 12) is the one valid one
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise AssertionError(f"{raw!r} in invalid-utf8.txt is valid UTF-8")
    assert len(corpus()) > 150


def test_every_example_writes_a_search_index_anew(tmp_path):
    """Examples that each write to a Whoosh index all commit (conftest: Hypothesis seeds `random` alike before each
    example, and a segment named from it took an earlier segment's name)."""
    from whoosh import fields, index

    search_index = index.create_in(str(tmp_path), fields.Schema(text=fields.TEXT(stored=True)))
    written = []

    @given(number=st.integers())
    def one(number):
        with search_index.writer(timeout=0) as writer:
            writer.add_document(text=f"example {number}")
        written.append(number)

    one()
    assert len(written) >= 2 and search_index.doc_count() == len(written)
