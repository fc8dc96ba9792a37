"""No English left (issue 13's acceptance): every page of the access table that answers 200 to a role, rendered as
that role in each of the five translated languages, shows no interface string in English; and every catalogue
translates every string (what `pybabel compile --statistics` counts), so a new untranslated string fails here with
its msgid named.

All pages, all roles, all five languages (ar, es, fr, ru, zh, through `?lang=`, which comes before the profile and
the cookie: network/core/i18n.py); one world per role as in tests/test_access_table.py, every language inside.

What a page shows is read from its text nodes, leaving out what is not interface text: <script>, <style>, <svg>,
<code>/<kbd>/<samp> (literal computer text: a command, a header, a key), and every element that holds user content
or proper names, which the templates mark so that it reads correctly right to left (issue 13, item 3): `dir="auto"`
(text written by a member, or a name, isolated from the page's direction), a `lang` other than the page's (a case
summary in its original language, a language named in itself) or `translate="no"` (HTML's mark for codes and names
never translated). Attribute values are not read. Then, for each page and language:

(a) no catalogue string in English: no msgid whose translation differs from it (or is missing) appears in the text,
    counting msgids of at least two words or 8 characters, split at placeholders and markup into literal pieces of
    at least two words (a piece also found in some translation of that language is not evidence of English);
(b) in Arabic, Russian and Chinese (other scripts than Latin), no Latin word of the interface's vocabulary (the
    lowercase words of 4 letters or more in the msgids) is left: it catches text never wrapped for translation.
    E-mail addresses, URLs, domain and file names, words in capitals (codes such as AUT-MOJ, acronyms) and the few
    product, format and command names in ALLOWED are not words.

A finding names the page, the language, the role and the English text.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.test_access_table import ROLES, TABLE, client_as, make_world

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("ar", "es", "fr", "ru", "zh")
NON_LATIN = ("ar", "ru", "zh")
# Names of products, formats and standards, the same in every language's interface (all appear in msgids).
ALLOWED = frozenset({
    "docx",     # a file format, named as Word names it
    "totp",     # the standard behind the authenticator codes (RFC 6238)
    "unodc", "sherloc",  # the Office's name and its knowledge portal, never translated
    "json", "jsonl", "openapi",  # formats of the exports and the API description
    "flask",    # the command an operator types (`flask --app app audit verify`), quoted in the interface's text
})
SKIPPED_TAGS = frozenset({"script", "style", "svg", "code", "kbd", "samp", "template", "bdi"})
# As `make translations` extracts (the Makefile's -k options): gettext's defaults and the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_ln": (1, 2), "lazy_ngettext": (1, 2),
            "_lp": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
WORD = re.compile(r"\w+")
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
# Not words of the interface: e-mail addresses, URLs, domain and file names, a format's name, and anything in
# capitals (codes such as AUT-MOJ or CASE-PUBLIC-1, acronyms, the REFERENCE of the [[case:REFERENCE]] syntax).
NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(?:\.[\w-]+)+\b|\bJSON Lines\b|\b[A-Z0-9]+(?:-[A-Z0-9]+)*\b")
PLACEHOLDER_OR_MARKUP = re.compile(r"%\(\w+\)[sdif]|%[sdif]|<[^>]*>|&\w+;")


# ---------------------------------------------------------------- reading a page

class _PageText(HTMLParser):
    """The text nodes of a page a reader sees as interface text (module docstring)."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped: this element or an ancestor is left out)
        self.parts: list[str] = []
        self.title: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attributes = dict(attrs)
        lang = (attributes.get("lang") or "").split("-")[0]
        skipped = (self._skipped() or tag in SKIPPED_TAGS or attributes.get("dir") == "auto"
                   or (tag != "html" and "lang" in attributes and lang != self.language)
                   or attributes.get("translate") == "no")
        self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        pass  # <br/>, <path/>: no text

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        if not self._skipped() and data.strip():
            (self.title if self.stack[-1][0] == "title" else self.parts).append(data)


# Where markup cannot go (the <title>), a name is isolated by FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, the
# plain-text <bdi> (the `isolate_text` filter): left out like <bdi>.
ISOLATED = re.compile("\u2068[^\u2068\u2069]*\u2069")


def page_text(html: str, language: str) -> tuple[str, str]:
    """The page's interface text, and its <title> (which markup cannot divide: a topic's title or an authority's
    name in it is isolated by U+2068 ... U+2069 instead, and only check (a) reads it)."""
    parser = _PageText(language)
    parser.feed(html)
    parser.close()
    return tuple(" ".join(ISOLATED.sub(" ", " ".join(parts)).split()) for parts in (parser.parts, parser.title))


# ---------------------------------------------------------------- the catalogues

def _forms(value) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) if value else ()


def read_catalogue(language: str):
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def source_msgids() -> list:
    """Every msgid of the code and templates as `make translations` extracts it (babel.cfg), read now: a string
    added since the last extraction counts too."""
    return [(message, where) for message, _context, where in source_messages()]


@functools.lru_cache(maxsize=1)
def source_messages() -> list:
    """(msgid, context, where) of every string the code and templates hold: a word with a context ("To" as a
    message's recipients) is its own entry of the catalogue."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                          keywords=KEYWORDS):
        found.setdefault((message, context), f"{filename}:{lineno}")
    return [(message, context, where) for (message, context), where in found.items()]


def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(text))


def english_pieces(language: str, msgids: list) -> dict[tuple[str, ...], str]:
    """The literal pieces of the msgids (of the source and of the catalogue) that must not appear in English in
    `language` (module docstring, (a)): {the piece's words: the msgid it comes from}."""
    catalogue = read_catalogue(language)
    translations = [form for message in catalogue if message.id and not message.fuzzy for form in _forms(message.string)]
    vocabulary = f" {' | '.join(' '.join(_words(text)) for text in translations)} "
    pieces: dict[tuple[str, ...], str] = {}
    for msgid in [message.id for message in catalogue if message.id] + [msgid for msgid, _where in msgids]:
        known = catalogue.get(msgid)
        strings = _forms(known.string) if known is not None and not known.fuzzy else ()
        for source in _forms(msgid):
            if source in strings:
                continue  # the same in this language (a name, "Extradition" in French...)
            literal = PLACEHOLDER_OR_MARKUP.split(source)
            whole = len(literal) == 1
            for chunk in literal:
                words = _words(chunk)
                if len(words) >= 2 or (whole and len(words) == 1 and len(words[0]) >= 8):
                    if f" {' '.join(words)} " not in vocabulary:
                        pieces.setdefault(words, source)
    return pieces


def interface_words(msgids: list) -> frozenset[str]:
    """Lowercase words of 4 letters or more in the msgids (module docstring, (b))."""
    words = set()
    for msgid, _where in msgids:
        for source in _forms(msgid):
            for chunk in PLACEHOLDER_OR_MARKUP.split(source):
                words.update(word for word in LATIN_WORD.findall(chunk) if word.islower())
    return frozenset(words - ALLOWED)


def english_in(text: str, pieces: dict[tuple[str, ...], str], starts: dict[str, list[tuple[str, ...]]],
               vocabulary: frozenset[str] | None) -> list[str]:
    """What in `text` is English: catalogue pieces (a), and interface words in a non-Latin page (b)."""
    words = _words(text)
    found = []
    positions = defaultdict(list)
    for index, word in enumerate(words):
        positions[word].append(index)
    for first, candidates in starts.items():
        for index in positions.get(first, ()):
            for piece in candidates:
                if words[index:index + len(piece)] == piece:
                    found.append(f"{' '.join(piece)!r} (msgid {pieces[piece]!r})")
    found = list(dict.fromkeys(found))
    if vocabulary is not None:
        latin = {word for word in LATIN_WORD.findall(NOT_WORDS.sub(" ", text)) if word.lower() in vocabulary}
        found.extend(f"unwrapped word {word!r}" for word in sorted(latin))
    return found


def _by_first_word(pieces):
    starts = defaultdict(list)
    for piece in pieces:
        starts[piece[0]].append(piece)
    return starts


# ---------------------------------------------------------------- the pages

def pages_of(role: str) -> list[str]:
    return [url for method, url, expected in TABLE if method == "GET" and expected[role] == 200]


def _with_language(path: str, language: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={language}"


@pytest.fixture(scope="module")
def msgids():
    return source_msgids()


@pytest.fixture(scope="module")
def english(msgids):
    """Per language: the pieces to look for, indexed by first word, and the vocabulary of check (b)."""
    vocabulary = interface_words(msgids)
    found = {}
    for language in TRANSLATED:
        pieces = english_pieces(language, msgids)
        found[language] = (pieces, _by_first_word(pieces), vocabulary if language in NON_LATIN else None)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_english_to_the_role_in_any_translated_language(app, clock, auth, member_factory, authority,
                                                                      other_authority, member, moderator, admin,
                                                                      focal_point, english, role):
    world = make_world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin,
                       focal_point)
    client, _token = client_as(app, auth, world, role)
    findings = []
    pages = 0
    for url in pages_of(role):
        path = url.format(**world["ids"])
        for language in TRANSLATED:
            response = client.get(_with_language(path, language))
            if response.status_code != 200:
                findings.append(f"{url}, {language}, {role}: answered {response.status_code}, not 200")
                continue
            if not response.mimetype.startswith("text/html"):
                break  # a file, an export, JSON: not a page
            pages += 1
            html = response.get_data(as_text=True)
            served = re.search(r'<html[^>]*\blang="([^"]+)"', html)
            if not served or served.group(1) != language:
                findings.append(f"{url}, {language}, {role}: served in {served.group(1) if served else '?'}")
                continue
            pieces, starts, vocabulary = english[language]
            text, title = page_text(html, language)
            findings.extend(f"{url}, {language}, {role}: {found}"
                            for found in english_in(text, pieces, starts, vocabulary)
                            + english_in(title, pieces, starts, None))
    assert pages, role
    assert not findings, f"{len(findings)} English strings left:\n" + "\n".join(findings)


# ---------------------------------------------------------------- the catalogues are complete

@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated_and_none_is_fuzzy(language):
    catalogue = read_catalogue(language)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        strings = _forms(message.string)
        if message.fuzzy or not strings or not all(strings):
            missing.append(f"{'fuzzy' if message.fuzzy else 'untranslated'}: {message.id!r}")
    for msgid, context, where in source_messages():
        if catalogue.get(msgid, context=context) is None:
            missing.append(f"new, not in the catalogue yet (make translations): {msgid!r} ({where})")
    assert not missing, f"{language}: {len(missing)} strings not translated:\n" + "\n".join(missing)


# ---------------------------------------------------------------- the detector itself

def test_the_detector_finds_english_but_not_user_content_or_names():
    pieces = {("Sign", "in"): "Sign in", ("Unread", "messages"): "Unread messages"}
    page = ('<html lang="ru"><head><title>Тема \u2068Central Authority\u2069 · Sign in</title></head><body><p>Автор: <bdi>Search Member</bdi></p><script>var x = "Sign in";</script><h1>Войти</h1>'
            '<p dir="auto">Sign in here: my own words about unread things</p><p lang="en">Unread messages</p>'
            '<p translate="no">Ministry of Justice</p><span>Unread messages</span> <span>Справка: search</span>'
            '<p>Напишите: ops@justice.example.org, AUT-MOJ, https://example.org/search</p></body></html>')
    text, title = page_text(page, "ru")
    assert "Ministry" not in text and "Sign" not in text and "Member" not in text and "Войти" in text
    assert title == "Тема · Sign in" and english_in(title, pieces, _by_first_word(pieces), None) == [
        "'Sign in' (msgid 'Sign in')"]
    found = english_in(text, pieces, _by_first_word(pieces), frozenset({"search", "unread", "messages"}))
    assert found == ["'Unread messages' (msgid 'Unread messages')", "unwrapped word 'Unread'",
                     "unwrapped word 'messages'", "unwrapped word 'search'"]
