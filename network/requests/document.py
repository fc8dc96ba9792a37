"""The request as a document: a print view (HTML), a DOCX for final editing and a PDF, from one RequestDocument.

The formal parts (title, addressee and sender blocks, headings, handling instructions, closing formula, signature
block) are fixed text kept as data in document_text.yaml, in the six UN languages and the Convention's own terms;
they are printed in the document's language. The practitioner's text is printed as written: never translated,
never interpreted as markup (HTML escapes it, DOCX and PDF write it as plain text runs), with only the characters
no document format can hold (control characters, bidi overrides, surrogates) taken out.

All three renderings walk the same `DocumentLayout`, so the print view, the DOCX and the PDF say the same thing in
the same order. The PDF is made by fpdf2 with HarfBuzz shaping (Arabic joined and laid right to left) and fonts
that come from PyPI packages (Noto Sans, Noto Sans Arabic, Noto Sans SC): no office suite and no system font on the
server. The fonts are variable fonts; fpdf2 reads their default instance (Regular for Noto Sans and Noto Sans
Arabic, Thin for Noto Sans SC), so the weights a document needs are cut here, on a subset of the characters it
uses (about half a second a weight instead of half a minute for the whole CJK font)."""
from __future__ import annotations

import datetime
import functools
import io
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from babel import Locale
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEXT_PATH = Path(__file__).with_name("document_text.yaml")
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
RTL_LANGUAGES = frozenset({"ar"})
# The CLDR locale whose date format a document uses: the United Nations write English dates day first.
DATE_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN", "ar": "ar", "fr": "fr", "es": "es", "ru": "ru"}
MAX_SECTION = 100_000  # characters in one section: far above any field a form accepts, so only a bug reaches it
AUTHORITY_FIELDS = ("name", "address", "phone", "email")


class DocumentError(ValueError):
    """The document cannot be made as asked (unknown language, a section far too long, a font package missing)."""


@dataclass(frozen=True)
class DocumentSection:
    """One part of the request, in the order the drafting steps give them."""

    key: str  # a field key (network/requests/definitions.py)
    label: str  # the drafting label, used as heading when the key has no fixed heading
    text: str  # the practitioner's own text, as written (never translated)


@dataclass(frozen=True)
class RequestDocument:
    """Everything the document shows; plain values, so that it can be built from a decrypted draft or in a test."""

    form: str  # form code (mla, extradition, confiscation, sentenced_persons, transfer_of_proceedings, ...)
    measures: tuple[str, ...]  # MLA measures; provisional_arrest on the extradition form
    language: str  # en, fr, es, ru, ar or zh: the formal parts are in this language
    reference: str  # the requesting side's reference
    date: datetime.date
    requesting_state: str  # ISO 3166 alpha-3 (the directory's code) or alpha-2
    requested_state: str
    requesting_authority: Mapping[str, str]  # name, address, email, phone
    requested_authority: Mapping[str, str]
    sections: tuple[DocumentSection, ...]
    urgent: bool = False
    confidential: bool = False
    limitation_on_use: bool = False
    signatory: str = ""  # name and title of the member signing


# ---------------------------------------------------------------- the fixed text

@functools.cache
def document_text() -> dict[str, dict]:
    """Language -> its fixed text (document_text.yaml)."""
    with TEXT_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def fixed_text(language: str, key: str) -> str | None:
    """The fixed text under a dotted key ("heading.facts") in the language, else in English, else None."""
    for lang in (language, "en"):
        node: object = document_text().get(lang, {})
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node
    return None


# ---------------------------------------------------------------- the practitioner's text, made safe to print

# Kept format characters: the zero-width (non-)joiners written inside words, and the directional marks that only
# say which way a neutral character runs. Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
# taken out: they could make printed text read differently from what was typed.
_KEPT_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")


def clean_text(text: str | None) -> str:
    """The text with line breaks normalised and every character that HTML, XML (DOCX) or a PDF text stream cannot
    hold, or that would reorder the printed text, removed. Everything else is kept exactly, markup included."""
    text = _NEWLINES.sub("\n", str(text or ""))
    kept = []
    for ch in text:
        if ch in "\n\t" or ch in _KEPT_FORMAT:
            kept.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in "\ufffe\uffff":
            continue
        kept.append(ch)
    return "".join(kept).strip("\n")


def text_direction(text: str, default: str) -> str:
    """The direction of a paragraph as a browser's dir="auto" finds it: that of its first strong character."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return default


def _line(text: str | None) -> str:
    """A value printed on one line (a name, a reference): control characters become spaces."""
    return " ".join(clean_text(text).split())


# ---------------------------------------------------------------- the layout every rendering follows

@dataclass(frozen=True)
class LaidSection:
    key: str
    heading: str
    text: str
    fixed_heading: bool  # the heading is the fixed text of the key (False: the drafting label)


@dataclass(frozen=True)
class DocumentLayout:
    language: str
    direction: str  # ltr or rtl
    title: str
    convention: str
    markers: tuple[str, ...]  # URGENT, CONFIDENTIAL, LIMITATION ON USE, in the language
    measures_label: str
    measures: tuple[str, ...]
    meta: tuple[tuple[str, str], ...]  # (label, value): reference, date, requesting and requested State
    sender_label: str
    sender: tuple[str, ...]  # lines of the requesting authority's block
    addressee_label: str
    addressee: tuple[str, ...]
    opening: str
    sections: tuple[LaidSection, ...]
    handling_label: str
    handling: tuple[str, ...]  # one paragraph per instruction that applies
    closing: str
    signature: tuple[tuple[str, str], ...]  # (label, value): place and date, name and title, signature, seal
    reference: str
    all_text: str = field(default="", repr=False)  # every character printed, for choosing and cutting fonts


def state_name(code: str, language: str) -> str:
    """The State's name in the language: the UN's short name in the six UN languages (the same as every page),
    else CLDR's through Babel, else its English name, else the code."""
    from network.core.reference import UN_LANGUAGES, un_state_name
    from network.directory.states import get_state

    code = (code or "").strip().upper()
    if language in UN_LANGUAGES and un_state_name(code, language) != code:
        return un_state_name(code, language)
    alpha_2 = code if len(code) == 2 else None
    state = get_state(code) if len(code) == 3 else None
    if state is not None:
        alpha_2 = state.alpha_2
    if alpha_2:
        name = Locale.parse(language).territories.get(alpha_2)
        if name:
            return name
    return state.iso_name if state is not None else code


def _title(doc: RequestDocument, language: str) -> str:
    if doc.form == "extradition" and "provisional_arrest" in doc.measures:
        return fixed_text(language, "title.provisional_arrest") or ""
    return fixed_text(language, f"title.{doc.form}") or fixed_text(language, "title.generic") or ""


def _authority_lines(authority: Mapping[str, str], language: str) -> tuple[str, ...]:
    lines = [_line(authority.get("name"))]
    lines += [_line(line) for line in clean_text(authority.get("address")).split("\n")]
    if authority.get("phone"):
        lines.append(f"{fixed_text(language, 'label.telephone')} {_line(authority.get('phone'))}")
    if authority.get("email"):
        lines.append(f"{fixed_text(language, 'label.email')}: {_line(authority.get('email'))}")
    return tuple(line for line in lines if line)


def layout(doc: RequestDocument) -> DocumentLayout:
    """What the document says, in order, in its language. Raises DocumentError for a language outside the six."""
    language = doc.language
    if language not in LANGUAGES:
        raise DocumentError(f"the document language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    text = functools.partial(fixed_text, language)
    sections = []
    for section in doc.sections:
        body = clean_text(section.text)
        if len(body) > MAX_SECTION:
            raise DocumentError(f"the section {section.key!r} is longer than {MAX_SECTION} characters")
        if not body.strip():
            continue  # a field left empty has no heading either: the step checks named what was missing
        heading = text(f"heading.{section.key}")
        sections.append(LaidSection(section.key, heading or _line(section.label) or section.key, body,
                                    heading is not None))
    markers = tuple(text(f"marker.{flag}") for flag, on in (
        ("urgent", doc.urgent), ("confidential", doc.confidential), ("limitation_on_use", doc.limitation_on_use))
        if on)
    handling = tuple(text(f"handling.{flag}") for flag, on in (
        ("urgent", doc.urgent), ("confidential", doc.confidential), ("limitation_on_use", doc.limitation_on_use))
        if on)
    measures = tuple(text(f"measure.{code}") or _line(code) for code in doc.measures
                     if not (doc.form == "extradition" and code == "provisional_arrest"))
    date = format_date(doc.date, format="long", locale=DATE_LOCALES[language])
    meta = ((text("label.reference"), _line(doc.reference)), (text("label.date"), date),
            (text("label.requesting_state"), state_name(doc.requesting_state, language)),
            (text("label.requested_state"), state_name(doc.requested_state, language)))
    signature = ((text("signature.place_date"), ""), (text("signature.name_title"), _line(doc.signatory)),
                 (text("signature.signature"), ""), (text("signature.seal"), ""))
    laid = DocumentLayout(
        language=language, direction="rtl" if language in RTL_LANGUAGES else "ltr", title=_title(doc, language),
        convention=text("convention"), markers=markers, measures_label=text("label.measures"), measures=measures,
        meta=meta, sender_label=text("label.from"),
        sender=_authority_lines(doc.requesting_authority, language), addressee_label=text("label.to"),
        addressee=_authority_lines(doc.requested_authority, language), opening=text("opening"),
        sections=tuple(sections), handling_label=text("label.handling"), handling=handling, closing=text("closing"),
        signature=signature, reference=_line(doc.reference))
    everything = [laid.title, laid.convention, *laid.markers, laid.measures_label, *laid.measures,
                  *(part for pair in meta for part in pair), laid.sender_label, *laid.sender, laid.addressee_label,
                  *laid.addressee, laid.opening, *(s.heading + s.text for s in laid.sections), laid.handling_label,
                  *laid.handling, laid.closing, *(part for pair in signature for part in pair), "0123456789 /:•_"]
    return DocumentLayout(**{**laid.__dict__, "all_text": "".join(everything)})


# ---------------------------------------------------------------- HTML: the print view

@functools.cache
def _jinja() -> Environment:
    """The document's own template environment: the document is fixed text in its language (no interface strings),
    rendered the same with or without a request, always autoescaped."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True)


def document_html(doc: RequestDocument) -> Markup:
    """The print view's body: an <article> with lang and dir set for the document language (rtl for Arabic).
    The page around it (layout, print button) is the view's; print styles are in static/css/app.css."""
    return Markup(_jinja().get_template("requests/document.html").render(d=layout(doc)))  # noqa: S704 (autoescaped)


# ---------------------------------------------------------------- DOCX

def _docx_rtl(paragraph) -> None:
    """Mark a paragraph and its runs right to left (w:bidi, w:rtl): Word then lays it out and aligns it as Arabic."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p_pr = paragraph._p.get_or_add_pPr()
    if p_pr.find(qn("w:bidi")) is None:
        p_pr.insert(0, OxmlElement("w:bidi"))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in paragraph.runs:
        r_pr = run._r.get_or_add_rPr()
        if r_pr.find(qn("w:rtl")) is None:
            r_pr.append(OxmlElement("w:rtl"))


def _docx_language(document, language: str) -> None:
    """The document's proofing language on the Normal style (w:lang): Latin, East Asian or complex script."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tag = {"en": "en-GB", "fr": "fr-FR", "es": "es-ES", "ru": "ru-RU", "ar": "ar-SA", "zh": "zh-CN"}[language]
    r_pr = document.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), tag if language not in ("ar", "zh") else "en-GB")
    if language == "zh":
        lang.set(qn("w:eastAsia"), tag)
    if language == "ar":
        lang.set(qn("w:bidi"), tag)
    r_pr.append(lang)


def document_docx(doc: RequestDocument) -> bytes:
    """The request as a Word document for final editing and signature (python-docx; plain text runs only)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    laid = layout(doc)
    rtl = laid.direction == "rtl"
    document = Document()
    _docx_language(document, laid.language)
    document.core_properties.title = laid.title
    document.core_properties.language = laid.language
    document.core_properties.subject = laid.reference
    made = []

    def paragraph(text: str = "", *, bold: bool = False, style: str | None = None, size: float | None = None,
                  own_direction: bool = False):
        par = document.add_paragraph(style=style)
        if text:
            run = par.add_run(text)  # python-docx writes \n as a line break and \t as a tab; the rest is text
            run.bold = bold or None
            if size:
                run.font.size = Pt(size)
        if not (own_direction and text_direction(text, laid.direction) != laid.direction):
            made.append(par)  # a practitioner's paragraph in another direction keeps it (dir="auto" in HTML)
        return par

    if laid.markers:
        paragraph("   ".join(laid.markers), bold=True, size=12)
    heading = document.add_heading(laid.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    made.append(heading)
    if laid.measures:
        paragraph(laid.measures_label, bold=True)
        for measure in laid.measures:
            paragraph(measure, style="List Bullet")
    for label, value in laid.meta:
        par = paragraph(f"{label}: ", bold=True)
        par.add_run(value)
    for label, lines in ((laid.sender_label, laid.sender), (laid.addressee_label, laid.addressee)):
        paragraph(label, bold=True)
        paragraph("\n".join(lines))
    paragraph(laid.opening)
    for section in laid.sections:
        made.append(document.add_heading(section.heading, level=1))
        paragraph(section.text, own_direction=True)
    if laid.handling:
        made.append(document.add_heading(laid.handling_label, level=1))
        for text in laid.handling:
            paragraph(text)
    paragraph(laid.closing)
    for label, value in laid.signature:
        par = paragraph(f"{label}: ", bold=True)
        par.add_run(value or "_" * 30)
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = laid.reference
    made.append(footer)
    if rtl:
        for par in made:
            _docx_rtl(par)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- PDF

def _font_file(package: str, *parts: str, pattern: str) -> Path:
    try:
        folder = Path(str(resources.files(package).joinpath(*parts)))
    except ModuleNotFoundError as error:
        raise DocumentError(f"the PDF needs the font package {package.replace('_', '-')!r}: install the project's "
                            "dependencies (pip install -e .)") from error
    found = sorted(folder.glob(pattern))
    if not found:
        raise DocumentError(f"no font matching {pattern} in {package}")
    return found[0]


# Family -> (package, folder inside it, file pattern). Noto Sans covers Latin, Greek and Cyrillic.
FONTS = {
    "latin": ("fontpkg_noto_sans", ("files",), "NotoSans[[]*.ttf"),
    "arabic": ("fontpkg_noto_sans_arabic", ("files",), "NotoSansArabic[[]*.ttf"),
    "cjk": ("justmytype_intl_cjk", ("fonts", "ofl", "notosanssc"), "NotoSansSC[[]*.ttf"),
}
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  r"\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")


def _cut_font(path: Path, weight: int, characters: str, folder: Path) -> str:
    """A static instance of a variable font at `weight`, with only the glyphs `characters` need (and what shaping
    them needs: the layout features are kept). Written to `folder`; returns the file name."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(path))
    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    if "Arabic" in path.name:
        options.layout_features = ["*"]  # joining forms and ligatures: HarfBuzz needs them to shape
    else:
        # Latin, Cyrillic and Chinese need no layout features to be legible, and decompiling Noto Sans's large GPOS
        # is most of the time spent: the tables go before the subsetter reads them.
        for tag in ("GSUB", "GPOS", "GDEF"):
            if tag in font:
                del font[tag]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    if "fvar" in font:
        axes = {axis.axisTag: (weight if axis.axisTag == "wght" else axis.defaultValue) for axis in font["fvar"].axes}
        font = instancer.instantiateVariableFont(font, axes)
    target = folder / f"{path.stem.split('[')[0]}-{weight}.ttf"
    font.save(str(target))
    return str(target)


def document_pdf(doc: RequestDocument) -> bytes:
    """The request as a PDF (fpdf2): A4, the document language's direction, shaped Arabic, Chinese in Noto Sans SC,
    the reference and page number on every page."""
    from fpdf import FPDF

    laid = layout(doc)
    rtl = laid.direction == "rtl"
    align = "R" if rtl else "L"
    characters = "".join(sorted(set(laid.all_text)))
    families = ["latin"] + [name for name, pattern in (("arabic", _ARABIC), ("cjk", _CJK)) if pattern.search(
        laid.all_text)]

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("latin", size=8)
            self.cell(0, 8, f"{laid.reference}    {self.page_no()}/{{nb}}", align="C")

    with tempfile.TemporaryDirectory(prefix="request-pdf-") as scratch:
        pdf = _Pdf(format="A4")
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(True, margin=20)
        for family in families:
            package, parts, pattern = FONTS[family]
            path = _font_file(package, *parts, pattern=pattern)
            # Both weights are cut: Noto Sans SC's default instance is Thin, and a small static font is also what
            # keeps fpdf2 from reading (and subsetting again) the whole variable font.
            pdf.add_font(family, "", _cut_font(path, 400, characters, Path(scratch)))
            pdf.add_font(family, "B", _cut_font(path, 700, characters, Path(scratch)))
        pdf.set_fallback_fonts(families[1:], exact_match=False)
        pdf.set_text_shaping(use_shaping_engine=True, direction=laid.direction)
        pdf.set_title(laid.title)
        pdf.set_subject(laid.reference)
        pdf.set_lang(laid.language)
        pdf.set_creator("Practitioners' Network")
        pdf.add_page()

        def block(text: str, size: float = 10.5, bold: bool = False, where: str = align, gap: float = 1.5,
                  own_direction: bool = False, realign: bool = True) -> None:
            """A paragraph; with own_direction, laid out in its own direction (a browser's dir="auto") and, unless
            realign is False (a line of an address block, like <bdi>), aligned as that direction."""
            direction = text_direction(text, laid.direction) if own_direction else laid.direction
            if direction != laid.direction:
                pdf.set_text_shaping(use_shaping_engine=True, direction=direction)
                where = ("L" if direction == "ltr" else "R") if realign else where
            pdf.set_font("latin", "B" if bold else "", size)
            pdf.multi_cell(0, size * 0.5, text, align=where, new_x="LMARGIN", new_y="NEXT")
            if direction != laid.direction:
                pdf.set_text_shaping(use_shaping_engine=True, direction=laid.direction)
            pdf.ln(gap)

        if laid.markers:
            block("   ".join(laid.markers), size=12, bold=True, where="C", gap=3)
        block(laid.title, size=15, bold=True, where="C", gap=4)
        if laid.measures:
            block(laid.measures_label, bold=True, gap=0.5)
            for measure in laid.measures:
                block(f"• {measure}", gap=0.5)
            pdf.ln(2)
        for label, value in laid.meta:
            block(f"{label}: {value}", gap=0.5)
        pdf.ln(3)
        for label, lines in ((laid.sender_label, laid.sender), (laid.addressee_label, laid.addressee)):
            block(label, bold=True, gap=0.5)
            for line in lines:  # each line in its own direction: "5 Example Crescent" stays as written
                block(line, gap=0, own_direction=True, realign=False)
            pdf.ln(3)
        block(laid.opening, gap=4)
        for section in laid.sections:
            block(section.heading, size=11, bold=True, gap=1)
            block(section.text, gap=4, own_direction=True)
        if laid.handling:
            block(laid.handling_label, size=11, bold=True, gap=1)
            for text in laid.handling:
                block(text, gap=2)
            pdf.ln(2)
        block(laid.closing, gap=8)
        for label, value in laid.signature:
            block(f"{label}: {value or '_' * 30}", gap=4)
        return bytes(pdf.output())
