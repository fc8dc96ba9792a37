"""Forum posts as safe HTML: mentions of members (@[Full Name]) and references ([[case:REF]], [[authority:KEY]])
become links at render time, then the whole text goes through render_markdown (markdown-it, then nh3).

References are turned into ordinary Markdown links before rendering, so the sanitiser sees them like any other
link: nothing written here can add HTML the allow-list would not let through. Only vetted members are linked;
an unknown name stays plain text. A case link is built from its URL path (/cases/<reference>): the network
never imports the catalogue.

A post's HTML is rendered once and stored with it (body_html), beside the renderer's version and a digest of the
Markdown it came from: a view shows the stored HTML, and renders again only when the text or the renderer (its
version, the libraries, the platform's public address in the links) has changed since. Mentions are therefore
linked as they stood when the post was written or last rendered."""
from __future__ import annotations

import hashlib
import re
from typing import Protocol

from flask import current_app, url_for
from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, select

from network.core import markdown
from network.core.db import db, kept_options
from network.core.markdown import render_markdown
from network.members.models import Member

MENTION = re.compile(r"@\[([^\[\]\n]{1,120})\]")
REFERENCE = re.compile(r"\[\[(case|authority):([A-Za-z0-9][A-Za-z0-9._-]{0,63})\]\]")
CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def _escape_text(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _absolute(path: str) -> str:
    """Links must be absolute (the sanitiser drops relative ones): the platform's public address plus the path."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def mentioned_members(text: str) -> dict[str, Member]:
    """Vetted members named in the text, by lower-cased name."""
    names = {name.strip().lower() for name in MENTION.findall(text or "") if name.strip()}
    if not names:
        return {}
    found = db.session.scalars(select(Member).where(func.lower(Member.name).in_(names),
                                                    Member.status == "active")).all()
    return {member.name.lower(): member for member in found}


def _link_outside_code(text: str) -> str:
    members = mentioned_members(text)

    def mention(match: re.Match) -> str:
        member = members.get(match.group(1).strip().lower())
        if member is None:
            return match.group(0)
        return f"[@{_escape_text(member.name)}]({_absolute(url_for('forum.search', author=member.id))})"

    def reference(match: re.Match) -> str:
        kind, key = match.group(1), match.group(2)
        if kind == "case":
            return f"[{_escape_text(key)}]({_absolute('/cases/' + key)})"
        return f"[{_escape_text(key)}]({_absolute(url_for('directory.authority', key=key))})"

    parts = CODE.split(text)
    for index in range(0, len(parts), 2):  # even parts are outside code spans and blocks
        parts[index] = REFERENCE.sub(reference, MENTION.sub(mention, parts[index]))
    return "".join(parts)


def render_post(text: str | None) -> Markup:
    """Safe HTML for a post's Markdown, with mentions and references linked."""
    if not text or not text.strip():
        return Markup("")
    return render_markdown(_link_outside_code(text), source=text)


RENDER_VERSION = 1  # of the mention and reference links above; bump when they change


_versions: dict[tuple, str] = {}  # what renderer_version rests on -> its answer (a page asks it twice per post)


def renderer_version() -> str:
    """The version stored HTML must carry to be shown: the Markdown renderer's, this module's, and the public
    address the links are built on."""
    key = (markdown.renderer_version(), RENDER_VERSION, current_app.config["PUBLIC_URL"])
    found = _versions.get(key)
    if found is None:
        address = hashlib.sha256(key[2].encode()).hexdigest()[:8]
        found = _versions[key] = f"{key[0]}; forum {key[1]}; {address}"
    return found


class StoresRenderedBody(Protocol):
    body_markdown: str
    body_html: str | None
    body_html_version: str | None
    body_html_digest: str | None


def post_html(item: StoresRenderedBody) -> Markup:
    """The safe HTML of a post (or of a revision of one): the stored HTML, rendered again first if the text or the
    renderer changed since (the request's commit keeps it)."""
    if not stored_html_is_current(item):
        item.body_html = str(render_post(item.body_markdown))
        item.body_html_version, item.body_html_digest = renderer_version(), markdown.source_digest(item.body_markdown)
    return Markup(item.body_html)  # noqa: S704 (rendered by render_post: markdown-it, then nh3)


def stored_html_is_current(item: StoresRenderedBody, version: str | None = None) -> bool:
    """Whether the item's stored HTML may be shown as it is (post_html renders it again otherwise): rendered from its
    present text by the present renderer. `version`: renderer_version(), when the caller asks it once for many."""
    return (item.body_html is not None and item.body_html_version == (version or renderer_version())
            and item.body_html_digest == markdown.source_digest(item.body_markdown))


def quote(author_name: str, text: str) -> str:
    """A Markdown quote of a post, to start a reply with."""
    lines = (text or "").strip().splitlines() or [""]
    return f"> **{_escape_text(author_name)}** wrote:\n>\n" + "\n".join("> " + line for line in lines) + "\n\n"


# ---------------------------------------------------------------- titles on reference links, for each reader

# A reference link as render_post stores it: the platform's address, the path, and the bare code as its text.
# The stored HTML is the same for every reader, so it keeps the code; the title a reader may see is put in when the
# page is shown (titled_references), never stored.
REFERENCE_LINK = re.compile(r'<a href="(?P<base>[^"<>]*)/(?P<path>cases|directory)/'
                            r'(?P<key>[A-Za-z0-9][A-Za-z0-9._-]{0,63})"(?P<rest>[^<>]*)>(?P=key)</a>')
TITLES_KEY = "network.forum.reference_titles"


def _titles_of_this_request() -> dict[tuple[str, str], str]:
    """The titles resolved for this request's reader, kept in the request's own environ (not `g`, which an app
    context shared by several requests would carry from one reader to the next); a fresh dict outside a request."""
    from flask import has_request_context, request

    if not has_request_context():
        return {}
    return request.environ.setdefault(TITLES_KEY, {})


def _references(html: str) -> set[tuple[str, str]]:
    base = _absolute("")
    return {(match.group("path"), match.group("key")) for match in REFERENCE_LINK.finditer(html)
            if match.group("base") == base}


def resolve_reference_titles(reader: Member | None, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The titles behind these references (("cases", reference), ("directory", key)) that this reader may see: case
    titles through the catalogue's hook (one query for all the cases), authority names for readers of the directory
    (one query).
    Every link is in the answer: "" for one the reader may not follow (or that leads nowhere), which keeps its bare
    code."""
    from network.forum.hooks import case_titles_resolver
    from network.members.access import can_read_directory

    titles: dict[tuple[str, str], str] = dict.fromkeys(wanted, "")
    cases = {key for path, key in wanted if path == "cases"}
    resolver = case_titles_resolver()
    if cases and resolver is not None:
        titles.update({("cases", reference): title for reference, title in resolver(reader, cases).items()})
    authorities = {key for path, key in wanted if path == "directory"}
    if authorities and reader is not None and can_read_directory(reader):
        statement = _authority_names_statement()
        db.session.flush()  # as the session's execute would; the rows read on its connection (no ORM layers to pass)
        rows = db.session.connection().execute(statement, {_AUTHORITY_KEYS.key: sorted(authorities)},
                                               execution_options=kept_options(statement))
        titles.update({("directory", key): name for key, name in rows if name})
    return titles


# The names of the authorities a page's links name: a statement built once per process, the keys bound as a list
# (the same SQL as an IN of the keys), its compiled form found by identity (kept_options).
_AUTHORITY_KEYS = bindparam("forum_authority_keys", expanding=True)
_kept_statements: dict[str, object] = {}


def _authority_names_statement():
    found = _kept_statements.get("authority names")
    if found is None:
        from network.directory.models import Authority

        found = _kept_statements["authority names"] = select(Authority.key, Authority.name).where(
            Authority.key.in_(_AUTHORITY_KEYS))
    return found


def prefetch_reference_titles(reader: Member | None, items: list) -> None:
    """Resolve the reference links of every post a page shows at once (views call this before rendering), so the
    `post_html` filter finds their titles without a query per post."""
    prefetch_titles_of(reader, [post_html(item) for item in items if item is not None])


def prefetch_titles_of(reader: Member | None, htmls: list[Markup]) -> None:
    """prefetch_reference_titles, for a page that has its posts' HTML (post_html) at hand already."""
    wanted = set().union(*(_references(str(html)) for html in htmls if has_references(html))) if htmls else set()
    _titles_of_this_request().update(resolve_reference_titles(reader, wanted))


def has_references(html: str) -> bool:
    """Whether the HTML may hold a reference link (most posts have none: nothing to title, no reader to ask for)."""
    return "/cases/" in html or "/directory/" in html


def titled_references(html: Markup, reader: Member | None) -> Markup:
    """The post's HTML with each reference link showing the title of the case or the name of the authority (the
    code kept as the link's title attribute), where the reader may see it."""
    text = str(html)
    if not has_references(text):
        return html
    known = _titles_of_this_request()
    missing = [pair for pair in _references(text) if pair not in known]
    if missing:  # a page that did not prefetch: resolve this post's links alone
        known.update(resolve_reference_titles(reader, set(missing)))
    base = _absolute("")

    def titled(match: re.Match) -> str:
        title = known.get((match.group("path"), match.group("key"))) if match.group("base") == base else None
        if not title:
            return match.group(0)
        hint = "" if "title=" in match.group("rest") else f' title="{match.group("key")}"'  # the author's own stays
        return (f'<a href="{match.group("base")}/{match.group("path")}/{match.group("key")}"{hint}'
                f'{match.group("rest")}>{escape(title)}</a>')

    return Markup(REFERENCE_LINK.sub(titled, text))  # noqa: S704 (stored sanitised HTML; titles escaped)


# ---------------------------------------------------------------- references in plain text (messages)

REFERENCE_PATHS = {"case": "cases", "authority": "directory"}


def text_references(texts: list[str]) -> set[tuple[str, str]]:
    """The [[case:…]] and [[authority:…]] references written in plain texts, as (path, code)."""
    return {(REFERENCE_PATHS[kind], key) for text in texts for kind, key in REFERENCE.findall(text or "")}


def linked_plain_text(text: str, titles: dict[tuple[str, str], str]) -> Markup:
    """A plain text (a message) escaped, its references made links that show the title the reader may see (the
    bare code otherwise); everything else stays text, line breaks included."""
    pieces, last = [], 0
    for match in REFERENCE.finditer(text or ""):
        path, key = REFERENCE_PATHS[match.group(1)], match.group(2)
        title = titles.get((path, key))
        label = escape(title) if title else escape(key)
        hint = f' title="{escape(key)}"' if title else ""
        pieces += [str(escape(text[last:match.start()])), f'<a href="{_absolute(f"/{path}/{key}")}"{hint}>{label}</a>']
        last = match.end()
    pieces.append(str(escape((text or "")[last:])))
    return Markup("".join(pieces))  # noqa: S704 (every piece escaped; codes match [A-Za-z0-9._-])
