"""Keeping the directory current: focal points propose changes to their authority's entry, moderators review a
side-by-side diff and approve or return it; every approved version stays viewable."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy import select

from network.core import counters
from network.core.access import current_member, ensure, requires
from network.core.clock import utcnow
from network.core.db import db
from network.core.forms import LARGEST_INTEGER, show_domain_error
from network.directory import changes
from network.directory import tasks as directory_tasks
from network.directory.change_forms import ApproveForm, EntryForm, ReconfirmForm, ReturnForm
from network.directory.models import Authority, AuthorityChange
from network.directory.services import DirectoryError, get_version, is_stale, stale_since, version_count
from network.directory.states import get_state
from network.members.access import (
    can_propose_directory_change,
    can_read_directory,
    can_review_directory,
    is_focal_point,
)

bp = Blueprint("directory_changes", __name__, url_prefix="/directory")
bp.record_once(lambda state: directory_tasks.register(state.app))  # tasks on the home page


@bp.app_context_processor
def directory_change_helpers() -> dict:
    def waiting_changes() -> int:
        """The moderators' badge: read with the navigation's other counts, in one statement."""
        return counters.navigation_count(current_member(), "directory_to_review")

    return {"directory_changes_waiting": waiting_changes}


@bp.context_processor
def page_helpers() -> dict:
    return {"is_stale": is_stale, "stale_since": stale_since, "get_state": get_state, "today": utcnow().date(),
            "source_label": lambda code: str(changes.SOURCE_LABELS.get(code, code)),
            "age": lambda when: format_timedelta(utcnow() - when, add_direction=False)}


def _authority_or_404(key: str) -> Authority:
    authority = db.session.scalar(select(Authority).where(Authority.key == key))
    if authority is None:
        abort(404)
    return authority




def _change_or_404(change_id: int) -> AuthorityChange:
    change = changes.get_change(change_id)  # at most the database's integer (app.configure_routing)
    if change is None:
        abort(404)
    return change


# ---------------------------------------------------------------- proposing (focal points)

def _own_authority(key: str) -> Authority:
    """The authority named, if the member is one of its focal points: 404 if none, 403 if not theirs."""
    authority = _authority_or_404(key)
    if not can_propose_directory_change(current_member(), authority):
        abort(403)
    return authority


def _render_propose(authority: Authority, form: EntryForm, status: int = 200, **context):
    member = current_member()
    waiting = changes.open_change(authority)
    return render_template("directory/changes/propose.html", authority=authority, form=form, open_change=waiting,
                           blocked=waiting is not None and waiting.proposed_by_id != member.id,
                           reconfirm_form=ReconfirmForm(), **context), status


@bp.route("/<key>/propose", methods=["GET", "POST"])
@requires(can_propose_directory_change)
def propose(key: str):
    authority = _own_authority(key)
    member = current_member()
    waiting = changes.open_change(authority)
    if request.method == "GET":
        if waiting is not None and waiting.proposed_by_id == member.id:  # the focal point edits their proposal
            form = EntryForm(data={**EntryForm.initial(waiting.data, waiting.base_version), "note": waiting.note})
        else:
            start = authority.to_interchange()
            returned = _returned_to_start_from(authority)
            if returned is not None:
                start = returned.data
            form = EntryForm(data=EntryForm.initial(start, version_count(authority)))
        return _render_propose(authority, form)
    form = EntryForm()
    if not form.validate_on_submit():
        return _render_propose(authority, form, 400)
    entry = form.entry()
    problems = changes.problems_by_field(changes.proposal_data(authority, entry))
    if problems:
        for name, messages in problems.items():
            target = getattr(form, name, None) if name in changes.EDITABLE_FIELDS else None
            if target is not None:
                target.errors = list(target.errors) + messages
            else:
                flash("; ".join(messages), "danger")
        return _render_propose(authority, form, 400)
    try:
        change = changes.propose(authority, member, entry, form.note.data or "", form.base_version_number())
    except DirectoryError as error:
        show_domain_error(form, error)
        return _render_propose(authority, form, 400)
    flash(_("Your proposed change is waiting for a moderator. You will hear by e-mail when it is approved or "
            "returned; until then the entry shows what it showed before."), "success")
    return redirect(url_for("directory_changes.mine", _anchor=f"change-{change.id}"))


def _returned_to_start_from(authority: Authority) -> AuthorityChange | None:
    """?from=<id>: start again from one of the authority's returned proposals."""
    wanted = request.args.get("from", type=int)
    if wanted is None or not 0 < wanted <= LARGEST_INTEGER:
        return None
    change = changes.get_change(wanted)
    if change is None or change.authority_id != authority.id or change.status != "returned":
        return None
    return change


@bp.post("/changes/<int:change_id>/withdraw")
@requires(can_propose_directory_change)
def withdraw(change_id: int):
    change = _change_or_404(change_id)
    member = current_member()
    ensure(change.proposed_by_id == member.id)
    try:
        changes.withdraw(change, member)
    except DirectoryError as error:
        show_domain_error(None, error)
        return redirect(url_for("directory_changes.mine"))
    flash(_("Your proposed change was withdrawn."), "success")
    return redirect(url_for("directory_changes.mine"))


@bp.post("/<key>/reconfirm")
@requires(can_read_directory)
def reconfirm(key: str):
    authority = _authority_or_404(key)
    member = current_member()
    if not changes.can_reconfirm(member, authority):
        abort(403)
    form = ReconfirmForm()
    if not form.validate_on_submit():
        flash(_("The note is too long."), "danger")
        return redirect(url_for("directory.authority", key=key))
    try:
        changes.reconfirm(authority, member, form.note.data or "")
    except DirectoryError as error:
        show_domain_error(None, error)
        return redirect(url_for("directory.authority", key=key))
    flash(_("Thank you: the entry is marked as verified today."), "success")
    return redirect(url_for("directory.authority", key=key))


@bp.get("/mine")
@requires(is_focal_point)
def mine():
    member = current_member()
    entries = [{"authority": a, "open": changes.open_change(a),
                "returned": changes.returned_changes(a)}
               for a in changes.authorities_of_focal_point(member)]
    return render_template("directory/changes/mine.html", entries=entries, reconfirm_form=ReconfirmForm())


# ---------------------------------------------------------------- review (moderators)

@bp.get("/changes")
@requires(can_review_directory)
def queue():
    return render_template("directory/changes/queue.html", items=changes.review_queue(), now=utcnow())


def _review_context(change: AuthorityChange, **forms) -> dict:
    member = current_member()
    authority = change.authority
    current = authority.to_interchange()
    diffs = changes.compare(current, change.data)
    intervening = changes.changed_since_base(change) if change.status == "proposed" else []
    return {
        "change": change, "authority": authority,
        "changed": [d for d in diffs if d.changed], "unchanged": [d for d in diffs if not d.changed],
        "current_version": version_count(authority), "intervening": intervening,
        "overwritten": [changes.field_label(f) for f in changes.overwritten_fields(change)] if intervening else [],
        "own": changes.is_own_proposal(change, member),
        "approve_form": forms.get("approve_form") or ApproveForm(),
        "return_form": forms.get("return_form") or ReturnForm(),
    }


@bp.get("/changes/<int:change_id>")
@requires(can_review_directory)
def review(change_id: int):
    change = _change_or_404(change_id)
    return render_template("directory/changes/review.html", **_review_context(change))


@bp.post("/changes/<int:change_id>/approve")
@requires(can_review_directory)
def approve(change_id: int):
    change = _change_or_404(change_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return render_template("directory/changes/review.html", **_review_context(change, approve_form=form)), 400
    try:
        version = changes.approve(change, current_member(), form.note.data or "")
    except DirectoryError as error:
        show_domain_error(form, error)
        change = _change_or_404(change_id)
        return render_template("directory/changes/review.html", **_review_context(change, approve_form=form)), 400
    flash(_("Approved: version %(n)d of %(name)s is in the directory. The focal point was told by e-mail.",
            n=version.number, name=change.authority.name), "success")
    return redirect(url_for("directory_changes.queue"))


@bp.post("/changes/<int:change_id>/return")
@requires(can_review_directory)
def return_change(change_id: int):
    change = _change_or_404(change_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return render_template("directory/changes/review.html", **_review_context(change, return_form=form)), 400
    try:
        changes.return_change(change, current_member(), form.reason.data or "")
    except DirectoryError as error:
        show_domain_error(form, error)
        change = _change_or_404(change_id)
        return render_template("directory/changes/review.html", **_review_context(change, return_form=form)), 400
    flash(_("The change went back to the focal point with your reason."), "success")
    return redirect(url_for("directory_changes.queue"))


# ---------------------------------------------------------------- versions (every vetted member)

@bp.get("/<key>/history")
@requires(can_read_directory)
def history(key: str):
    authority = _authority_or_404(key)
    return render_template("directory/changes/history.html", authority=authority,
                           versions=changes.versions_of(authority), reconfirm_form=ReconfirmForm(),
                           can_reconfirm=changes.can_reconfirm(current_member(), authority))


@bp.get("/<key>/history/<int:number>")
@requires(can_read_directory)
def version(key: str, number: int):
    authority = _authority_or_404(key)
    shown = get_version(authority, number)  # at most the database's integer (app.configure_routing)
    if shown is None:
        abort(404)
    previous = get_version(authority, number - 1) if number > 1 else None
    diffs = changes.compare(previous.data, shown.data, changes.EDITABLE_FIELDS + ("last_verified",)) \
        if previous else []
    return render_template("directory/changes/version.html", authority=authority, version=shown, previous=previous,
                           rows=changes.entry_rows(shown.data), changed=[d for d in diffs if d.changed],
                           latest=version_count(authority))
