"""The request document (network/requests/document.py): the formal parts in the document's language (six UN
languages, kept as data), the practitioner's text as written, in the print view (lang and dir, RTL for Arabic only),
the DOCX (opened with python-docx) and the PDF (read back with pypdf); hostile text cannot break any of them.

No database and no app: the document is made from plain values. PDFs cost about a second each, so each one is made
once per module (the `pdf` fixture) and several tests read it."""
from __future__ import annotations

import datetime
import io
import re
import unicodedata
import zipfile

import pytest
from markupsafe import escape

from network.requests.document import (
    LANGUAGES,
    DocumentError,
    DocumentSection,
    RequestDocument,
    document_docx,
    document_html,
    document_pdf,
    document_text,
    fixed_text,
)

FACTS = "Between March and May 2025 the suspect moved EUR 2.4 million\nthrough three shell companies."
PURPOSE = "To trace the funds — «Überweisungen» — and identify the beneficial owner."
HOSTILE = ("<script>alert(1)</script> <b>bold</b> &amp; {{ 7*7 }} {% raw %}\n"
           "=cmd|' /C calc'!A0\n+SUM(A1:A2) @HYPERLINK(\"http://x.example\")\n"
           "NUL\x00BEL\x07ESC\x1b[31m RLO\u202eevil\u202c FORMFEED\x0c SURROGATE\ud800 PRIVATE\ue000 end")
LONG_TOKEN = "A" * 3000
LONG_TEXT = ("The facts, at length. " * 1000) + LONG_TOKEN  # about 25,000 characters


def make(language: str = "en", *, form: str = "mla", measures: tuple[str, ...] = ("financial_records", "evidence"),
         sections: tuple[DocumentSection, ...] | None = None, **changes) -> RequestDocument:
    values = dict(
        form=form, measures=measures, language=language, reference="AUT-2026-0042",
        date=datetime.date(2026, 3, 14), requesting_state="AUT", requested_state="NGA",
        requesting_authority={"name": "Federal Ministry of Justice", "address": "Museumstrasse 7\n1070 Vienna",
                              "email": "mla@justiz.example.at", "phone": "+43 1 555 0100"},
        requested_authority={"name": "Central Authority Unit", "address": "5 Example Crescent, Abuja",
                             "email": "central.authority@justice.example.ng", "phone": ""},
        sections=sections if sections is not None else (
            DocumentSection("facts", "Summary of the relevant facts", FACTS),
            DocumentSection("purpose", "Purpose of the request", PURPOSE),
            DocumentSection("case_officer", "Officer in charge", "Inspector J. Mwangi"),
            DocumentSection("procedure", "Particular procedure", "   ")),
        urgent=True, confidential=True, limitation_on_use=False, signatory="Dr Anna Berger, Head of Division")
    values.update(changes)
    return RequestDocument(**values)


def escaped(language: str, key: str) -> str:
    return str(escape(fixed_text(language, key)))


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    parts += [paragraph.text for section in document.sections for paragraph in section.footer.paragraphs]
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def pdf():
    """language -> PDF bytes of the standard document (plus "hostile": the hostile and very long text)."""
    made = {language: document_pdf(make(language)) for language in ("en", "ar", "zh")}
    made["hostile"] = document_pdf(make("ru", sections=(DocumentSection("facts", "Facts", HOSTILE),
                                                        DocumentSection("purpose", "Purpose", LONG_TEXT))))
    return made


# ---------------------------------------------------------------- the fixed text

def test_every_language_has_every_formal_part_and_the_conventions_terms():
    def keys(node: dict, prefix: str = "") -> set[str]:
        found = set()
        for key, value in node.items():
            found |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
        return found

    text = document_text()
    assert set(text) == set(LANGUAGES)
    english = keys(text["en"])
    for language in LANGUAGES:
        assert keys(text[language]) == english, language
        assert all(str(fixed_text(language, key)).strip() for key in english), language
    terms = {"en": "mutual legal assistance", "fr": "entraide judiciaire", "es": "asistencia judicial recíproca",
             "ru": "взаимной правовой помощи", "ar": "المساعدة القانونية المتبادلة", "zh": "司法协助"}
    for language, term in terms.items():
        assert term in fixed_text(language, "title.mla").lower(), language
    assert fixed_text("fr", "heading.facts") == "Résumé des faits pertinents"
    assert fixed_text("ar", "direction") == "rtl" and fixed_text("zh", "direction") == "ltr"


def test_a_language_outside_the_six_is_refused():
    with pytest.raises(DocumentError):
        document_html(make("de"))


# ---------------------------------------------------------------- the print view

@pytest.mark.parametrize("language", LANGUAGES)
def test_print_view_sets_lang_and_dir_rtl_for_arabic_only(language):
    html = str(document_html(make(language)))
    article = re.search(r"<article [^>]*>", html).group(0)
    assert f'lang="{language}"' in article
    assert ('dir="rtl"' in html) == (language == "ar")
    assert f'dir="{"rtl" if language == "ar" else "ltr"}"' in article
    assert escaped(language, "title.mla") in html
    assert escaped(language, "handling.urgent") in html
    assert escaped(language, "handling.limitation_on_use") not in html  # not asked for


def test_print_view_in_french_keeps_the_practitioners_text_and_formats_the_date():
    html = str(document_html(make("fr")))
    assert "Résumé des faits pertinents" in html and "Summary of the relevant facts" not in html
    assert FACTS in html and "«Überweisungen»" in html  # as written, line break kept (pre-wrap)
    assert "Officer in charge" in html and "Inspector J. Mwangi" in html  # an unknown key: the drafting label
    assert "Procédure particulière" not in html  # an empty section has no heading
    assert "14 mars 2026" in html and "Autriche" in html and "<bdi>Nigéria</bdi>" in html  # the UN's French name, as every page
    assert "Recueil de témoignages ou de dépositions" in html  # the measures, in French


def test_print_view_escapes_markup_and_drops_control_characters():
    html = str(document_html(make("en", sections=(DocumentSection("facts", "Facts", HOSTILE),))))
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp;amp;" in html
    assert "{{ 7*7 }}" in html and "{% raw %}" in html  # text, never a template
    assert "=cmd|&#39; /C calc&#39;!A0" in html
    for character in ("\x00", "\x07", "\x1b", "\u202e", "\x0c", "\ud800", "\ue000"):
        assert character not in html
    assert "NULBEL" in html and "RLOevil" in html


def test_titles_follow_form_and_measures_and_unknown_forms_get_generic_headings():
    assert escaped("es", "title.provisional_arrest") in str(
        document_html(make("es", form="extradition", measures=("provisional_arrest",))))
    html = str(document_html(make("en", form="joint_investigation", measures=())))
    assert "Request for international cooperation in criminal matters" in html
    assert "Assistance sought" not in html


# ---------------------------------------------------------------- DOCX

@pytest.mark.parametrize("language", ["en", "fr", "ar", "zh"])
def test_docx_has_the_formal_parts_in_the_document_language_and_the_text_as_written(language):
    data = document_docx(make(language))
    text = docx_text(data)
    for key in ("title.mla", "heading.facts", "heading.purpose", "handling.urgent", "handling.confidential",
                "closing", "signature.name_title", "label.requested_state", "measure.financial_records"):
        assert fixed_text(language, key) in text, key
    if language != "en":
        assert "Summary of the relevant facts" not in text and "Handling instructions" not in text
    assert FACTS in text and PURPOSE in text  # the practitioner's text, line break included
    assert "AUT-2026-0042" in text and "Dr Anna Berger, Head of Division" in text
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode()
    assert ("<w:bidi/>" in body) == (language == "ar")
    assert ("<w:rtl/>" in body) == (language == "ar")


def test_docx_writes_hostile_text_as_plain_text():
    data = document_docx(make("en", sections=(DocumentSection("facts", "Facts", HOSTILE),
                                              DocumentSection("purpose", "Purpose", LONG_TEXT))))
    text = docx_text(data)
    assert "<script>alert(1)</script>" in text and "=cmd|' /C calc'!A0" in text and "{{ 7*7 }}" in text
    assert LONG_TOKEN in text and "The facts, at length." in text
    assert not any(ch in text for ch in ("\x00", "\x07", "\x1b", "\u202e", "\ud800", "\ue000"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode()
    assert "<script" not in body and "instrText" not in body and "fldSimple" not in body  # no field codes


# ---------------------------------------------------------------- PDF

def test_pdf_in_english_has_the_formal_parts_and_the_text(pdf):
    text = pdf_text(pdf["en"])
    assert pdf["en"].startswith(b"%PDF-")
    for key in ("title.mla", "heading.facts", "label.handling", "marker.urgent", "marker.confidential"):
        assert fixed_text("en", key) in text, key
    assert "shell companies" in text and "AUT-2026-0042" in text and "14 March 2026" in text


def test_pdf_in_chinese_uses_the_chinese_formal_parts(pdf):
    text = pdf_text(pdf["zh"])
    for key in ("title.mla", "heading.facts", "label.requested_state", "marker.urgent"):
        assert fixed_text("zh", key) in text, key
    assert "2026年3月14日" in text and "尼日利亚" in text
    assert "shell companies" in text  # the practitioner's English, as written


def test_pdf_in_arabic_is_shaped_right_to_left_with_an_arabic_font(pdf):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf["ar"]))
    fonts = {str(font["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].get_object().values()}
    assert any("NotoSansArabic" in font for font in fonts)
    assert reader.trailer["/Root"]["/Lang"] == "ar"
    text = pdf_text(pdf["ar"])
    # pypdf reads shaped Arabic with stray codes between the letters (positioning, not text): keep the letters.
    text = "".join(ch for ch in text if ch in "\n " or unicodedata.category(ch) != "Cc")
    words = {re.sub(r"[^\u0621-\u064a]", "", word) for word in text.split()}
    assert {"طلب", "المساعدة", "القانونية", "المتبادلة", "عاجل", "سري", "النمسا"} <= words
    assert "AUT-2026-0042" in text and "three shell companies" in text  # (its full stop runs to the left)


def test_pdf_survives_hostile_and_very_long_text(pdf):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf["hostile"]))
    assert len(reader.pages) >= 5  # 25,000 characters, a 3,000-character word broken across lines
    text = pdf_text(pdf["hostile"])
    assert "<script>alert(1)</script>" in text and "=cmd|' /C calc'!A0" in text
    assert fixed_text("ru", "heading.facts") in text
    assert text.count("A" * 50) >= 40  # the long word is all there, wrapped
