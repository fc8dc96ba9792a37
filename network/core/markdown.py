"""Markdown that members and States write (legal requirements, later forum posts), rendered safe to show.

Two layers, so that a mistake in one is caught by the other: markdown-it-py renders CommonMark with raw HTML
disabled (any HTML in the text is shown as text), then nh3 keeps only an explicit allow-list of tags and
attributes. Links may only use http, https or mailto (relative links, javascript:, data: and the rest are
dropped), and every link gets rel="noopener noreferrer nofollow". Images are not rendered: an image is a request
to a server the author chooses each time someone reads the page."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
MAX_LENGTH = 100_000  # longer text is cut, never rendered for minutes

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_parser.disable("image")  # ![alt](url) stays text: no reader's browser fetches an address the author chose


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    """nh3 already refuses other schemes; this also drops relative and protocol-relative links."""
    if tag == "a" and attribute == "href":
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        return value if scheme in URL_SCHEMES else None
    return value


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for a Markdown text (empty Markup for None or blank)."""
    if not text or not text.strip():
        return Markup("")
    html = _parser.render(text[:MAX_LENGTH])
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_only_absolute_links,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 (sanitised by nh3 just above)
