"""Markdown that members and States write (legal requirements, later forum posts), rendered safe to show.

Two layers, so that a mistake in one is caught by the other: markdown-it-py renders CommonMark with raw HTML
disabled (any HTML in the text is shown as text), then nh3 keeps only an explicit allow-list of tags and
attributes. Links may only use http, https or mailto (relative links, javascript:, data: and the rest are
dropped), and every link gets rel="noopener noreferrer nofollow". Images are not rendered: an image is a request
to a server the author chooses each time someone reads the page.

Rendering has a cost cap: the parser is pure Python and slow on some constructs (thousands of brackets, nested
brackets, link openers followed by long words). Text over the cap is refused where it is written
(render_cost_problem) and, if it reaches the renderer anyway (an import, older data), is shown as plain paragraphs
without being parsed. Text rendered once is kept (here in a small cache; forum posts store theirs with the post);
RENDERER_VERSION, with the versions of the two libraries, says when stored HTML must be rendered again."""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from importlib.metadata import version as package_version
from threading import Lock

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
MAX_LENGTH = 100_000  # longer text is cut, never rendered for minutes
# The render cost cap: at most so many formatting marks, brackets open at once, and link openers "](" (each of
# which makes the parser read the word after it). Within it a 50,000-character text renders in about 0.1 s.
MARKS = "[]*_`<"
MAX_MARKS = 10_000
MAX_NESTING = 32
MAX_LINKS = 1_000
# Bump when the same text renders differently (allow-list, rules, parser options): stored HTML is rendered again.
RENDERER_VERSION = 2
LIBRARIES = f"markdown-it-py {package_version('markdown-it-py')}, nh3 {package_version('nh3')}"
CACHE_SIZE = 256  # texts rendered outside the forum (legal requirements, search snippets), per process
CACHE_MAX_HTML = 200_000  # larger results are not kept in memory

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_parser.disable("image")  # ![alt](url) stays text: no reader's browser fetches an address the author chose


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    """nh3 already refuses other schemes; this also drops relative and protocol-relative links."""
    if tag == "a" and attribute == "href":
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        return value if scheme in URL_SCHEMES else None
    return value


def renderer_version() -> str:
    """What HTML rendered now is made with; HTML stored under another version is rendered again."""
    return f"{RENDERER_VERSION} ({LIBRARIES})"


def source_digest(text: str | None) -> str:
    """A fingerprint of the text HTML was rendered from: stored HTML of another text is never shown."""
    return hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()


def _nesting(text: str) -> int:
    """The most brackets open at once ("[" not yet closed by "]")."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]]", text):
        depth = depth + 1 if bracket == "[" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _cost(text: str) -> tuple[int, int, int]:
    """(formatting marks, link openers, brackets open at once): what the parser's time grows with."""
    return sum(text.count(mark) for mark in MARKS), text.count("]("), _nesting(text)


def over_cost_cap(text: str | None) -> bool:
    marks, links, depth = _cost((text or "")[:MAX_LENGTH])
    return marks > MAX_MARKS or links > MAX_LINKS or depth > MAX_NESTING


def render_cost_problem(text: str | None) -> str | None:
    """Why the text is over the render cost cap (a message for its author), or None when it may be rendered."""
    marks, links, depth = _cost((text or "")[:MAX_LENGTH])
    if marks > MAX_MARKS:
        return _("The text has too many formatting marks ([ ] * _ ` <): %(count)d, at most %(max)d. Put long "
                 "code or data in an attachment, or split the text.", count=marks, max=MAX_MARKS)
    if links > MAX_LINKS:
        return _("The text has too many links: %(count)d, at most %(max)d.", count=links, max=MAX_LINKS)
    if depth > MAX_NESTING:
        return _("Brackets are nested too deep: %(depth)d open at once, at most %(max)d.", depth=depth,
                 max=MAX_NESTING)
    return None


def _plain_paragraphs(text: str) -> str:
    """Text over the cap, shown without parsing: escaped paragraphs and line breaks, in linear time."""
    paragraphs = [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text) if part.strip()]
    return "".join(f"<p>{'<br>'.join(str(escape(line)) for line in part.split(chr(10)))}</p>\n"
                   for part in paragraphs)


_cache: OrderedDict[tuple[str, str], str] = OrderedDict()
_cache_lock = Lock()


def render_markdown(text: str | None, source: str | None = None) -> Markup:
    """Safe HTML for a Markdown text (empty Markup for None or blank); the same text is parsed once per process
    (until the renderer's version changes). `source`: the author's text when `text` was derived from it (forum
    links), so the cost cap judges what the author wrote."""
    if not text or not text.strip():
        return Markup("")
    key = (renderer_version(), source_digest(text))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return Markup(cached)  # noqa: S704 (sanitised by nh3 when it was rendered)
    html = _render(text, over_cost_cap(text if source is None else source))
    if len(html) <= CACHE_MAX_HTML:
        with _cache_lock:
            _cache[key] = html
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return Markup(html)  # noqa: S704 (sanitised by nh3 in _render)


def _render(text: str, plain: bool) -> str:
    text = text[:MAX_LENGTH]
    html = _plain_paragraphs(text) if plain else _parser.render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_only_absolute_links,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def headings_from(html: Markup | str, top: int) -> Markup:
    """Rendered Markdown placed under a page's own heading: its headings moved down so that the highest becomes
    level `top` (the others keep their order, at most h6). "## Mutual legal assistance" under a section's h2 is an
    h3, not a second h2. The HTML is render_markdown's: headings carry no attributes, and text that looks like a
    tag was escaped."""
    text = str(html)
    levels = [int(level) for _slash, level in _HEADING_TAG.findall(text)]
    if not levels:
        return Markup(text)  # noqa: S704 (render_markdown's sanitised HTML, unchanged)
    shift = max(0, min(top, 6) - min(levels))
    return Markup(_HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + shift, 6)}>", text))  # noqa: S704
