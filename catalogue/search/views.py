"""One box for everything: a search page that looks through catalogue cases, forum posts and the directory of
authorities at once, each group with its count, its best few results and a link to its full results, each under
its own reader's scope (cases: visible_cases; posts: the forum's visibility filter; authorities: vetted members)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from catalogue.cases import queries
from catalogue.search import services as search_services
from catalogue.search.documents import STEMMED_LANGUAGES, fold, stemmer, tokens
from catalogue.search.query import Node, Not, Or, Phrase, Synonym, Term, parse, synonym_table
from network.core.access import current_member, public
from network.core.db import db
from network.core.reference import state_name

bp = Blueprint("search", __name__)

GROUP_SIZE = 5
MAX_QUERY_CHARS = 500


@dataclass
class Item:
    title: str
    url: str
    detail: str = ""
    snippet: Markup | str = ""


@dataclass
class Group:
    kind: str  # cases, posts, authorities
    heading: str
    total: int
    more_url: str
    items: list[Item] = field(default_factory=list)


# ---------------------------------------------------------------- the three kinds

def case_group(member, text: str) -> tuple[Group, str | None, str | None]:
    """The catalogue's first results (corrected like the catalogue's own search): (group, corrected, typed)."""
    page = queries.search_cases(member, {"q": [text]}, "relevance", 1, GROUP_SIZE)
    searched = page.corrected_query or text
    items = [Item(case.title, url_for("catalogue.case_page", reference=case.reference),
                  " · ".join(str(p) for p in (state_name(case.requesting_state), state_name(case.requested_state),
                                              case.year) if p),
                  page.snippets.get(case.id, "")) for case in page.cases]
    group = Group("cases", _("Catalogue cases"), page.total, url_for("catalogue.listing", q=searched), items)
    return group, page.corrected_query, page.typed_query


def post_group(member, text: str) -> Group | None:
    """The forum's first results through its search provider, in the member's forum scope (None when the forum is
    not theirs or has no search provider)."""
    from network.forum import access, hooks
    from network.forum.models import Post

    if member is None or not access.can_use_forum(member):
        return None
    provider = hooks.search_provider()
    if provider is None:
        return None
    seen, moderated = access.search_scope(member)
    found = provider(hooks.SearchScope(member.id, seen, moderated), text, None, 1, GROUP_SIZE)
    rows = {post.id: post for post in db.session.scalars(
        access.visible_posts(member).where(Post.id.in_(found.post_ids))).unique()}
    items = [Item(rows[i].topic.title, url_for("forum.topic", topic_id=rows[i].topic_id, post=i) + f"#post-{i}",
                  rows[i].author.name if rows[i].author else "", found.snippets.get(i, ""))
             for i in found.post_ids if i in rows]
    return Group("posts", _("Forum posts"), found.total, url_for("forum.search", q=text), items)


def _concepts(node: Node | None) -> list[set[str]]:
    """The query's positive concepts, each as the set of folded words and stems that stand for it (a synonym group
    as every word of its terms)."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, Or) and not all(isinstance(i, (Term, Phrase, Synonym, Or)) for i in node.items):
        return []
    words: set[str] = set()

    def collect(n: Node) -> None:
        if isinstance(n, Term):
            words.update(tokens(n.word))
        elif isinstance(n, Phrase):
            words.update(w for word in n.words for w in tokens(word))
        elif isinstance(n, Synonym):
            for term in synonym_table()[0].get(n.group, ()):
                words.update(term)
        elif isinstance(n, Or):
            for item in n.items:
                collect(item)

    collect(node)
    return [{stemmer(lang)(w) for w in words for lang in (*STEMMED_LANGUAGES, "raw")}] if words else []


def authority_group(member, text: str) -> Group | None:
    """Authorities of the directory (vetted members only) by how many of the query's concepts their name, parent
    body, State and designations hold, in any analysed language ("extradition France", "autorité centrale")."""
    from network.directory.models import Authority
    from network.directory.services import designation_labels
    from network.members.access import can_read_directory

    if member is None or not can_read_directory(member):
        return None
    query = parse(text)
    concepts = [c for node in query.concepts for c in _concepts(node)]
    if not concepts:
        return Group("authorities", _("Competent national authorities"), 0, url_for("directory.index"))
    labels = designation_labels()
    scored = []
    for authority in db.session.scalars(select(Authority)):
        text_of = " ".join([authority.name, authority.parent_body, authority.key, authority.state,
                            state_name(authority.state)]
                           + [labels.get(row.code, "") for row in authority.designation_rows])
        words = {stemmer(lang)(w) for w in tokens(text_of) for lang in (*STEMMED_LANGUAGES, "raw")}
        held = sum(1 for concept in concepts if concept & words)
        if held:
            scored.append((-held, fold(state_name(authority.state)), fold(authority.name), authority))
    scored.sort(key=lambda row: row[:3])
    items = [Item(a.name, url_for("directory.authority", key=a.key), state_name(a.state), a.parent_body)
             for *_key, a in scored[:GROUP_SIZE]]
    return Group("authorities", _("Competent national authorities"), len(scored),
                 url_for("directory.index", q=text), items)


# ---------------------------------------------------------------- the page

@bp.get("/search")
@public
def everything():
    member = current_member()
    text = " ".join((request.args.get("q") or "").replace("\x00", " ").split())[:MAX_QUERY_CHARS]
    groups: list[Group] = []
    corrected = typed = None
    if text:
        if search_services.over_rate_limit():
            abort(429)
        cases, corrected, typed = case_group(member, text)
        groups.append(cases)
        for group in (post_group(member, corrected or text), authority_group(member, corrected or text)):
            if group is not None:
                groups.append(group)
    return render_template("search/everything.html", q=text, groups=groups, corrected=corrected, typed=typed,
                           signed_in=member is not None)
