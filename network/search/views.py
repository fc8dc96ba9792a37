"""One box for everything: /search looks through every registered kind at once (catalogue cases, forum posts,
authorities), each group with its count, its first results and a link to its full results, each under its own
reader's scope (the kind decides it, inside its engine's query). `kind=<name>` pages through one kind's results.
When a kind corrects a misspelt query, the box says so and the kinds after it search the correction."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from network.core.access import current_member, public
from network.search.kinds import Group, registered
from network.search.services import over_rate_limit

bp = Blueprint("search", __name__)

GROUP_SIZE = 5
PAGE_SIZE = 20
MAX_PAGE = 100
MAX_QUERY_CHARS = 500


@bp.get("/search")
@public
def everything():
    member = current_member()
    text = " ".join((request.args.get("q") or "").replace("\x00", " ").split())[:MAX_QUERY_CHARS]
    only = request.args.get("kind") or None
    kinds = [k for k in registered() if k.box is not None and (only is None or k.name == only)]
    if only is not None and not kinds:
        abort(404)
    page = max(1, min(request.args.get("page", 1, type=int), MAX_PAGE)) if only else 1
    groups: list[Group] = []
    corrected = typed = None
    if text:
        if over_rate_limit():
            abort(429)
        for kind in kinds:
            group = kind.box(member, corrected or text, PAGE_SIZE if only else GROUP_SIZE, page)
            if group is None:
                continue
            if group.corrected and corrected is None:
                corrected, typed = group.corrected, group.typed
            groups.append(group)
    pages = max(1, -(-groups[0].total // PAGE_SIZE)) if only and groups else 1
    return render_template("search/everything.html", q=text, groups=groups, corrected=corrected, typed=typed,
                           signed_in=member is not None, only=only, page=page, pages=min(pages, MAX_PAGE))
