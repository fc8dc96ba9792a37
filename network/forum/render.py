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
from markupsafe import Markup
from sqlalchemy import func, select

from network.core import markdown
from network.core.db import db
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


def renderer_version() -> str:
    """The version stored HTML must carry to be shown: the Markdown renderer's, this module's, and the public
    address the links are built on."""
    address = hashlib.sha256(current_app.config["PUBLIC_URL"].encode()).hexdigest()[:8]
    return f"{markdown.renderer_version()}; forum {RENDER_VERSION}; {address}"


class StoresRenderedBody(Protocol):
    body_markdown: str
    body_html: str | None
    body_html_version: str | None
    body_html_digest: str | None


def post_html(item: StoresRenderedBody) -> Markup:
    """The safe HTML of a post (or of a revision of one): the stored HTML, rendered again first if the text or the
    renderer changed since (the request's commit keeps it)."""
    version, digest = renderer_version(), markdown.source_digest(item.body_markdown)
    if item.body_html is None or item.body_html_version != version or item.body_html_digest != digest:
        item.body_html = str(render_post(item.body_markdown))
        item.body_html_version, item.body_html_digest = version, digest
    return Markup(item.body_html)  # noqa: S704 (rendered by render_post: markdown-it, then nh3)


def quote(author_name: str, text: str) -> str:
    """A Markdown quote of a post, to start a reply with."""
    lines = (text or "").strip().splitlines() or [""]
    return f"> **{_escape_text(author_name)}** wrote:\n>\n" + "\n".join("> " + line for line in lines) + "\n\n"
