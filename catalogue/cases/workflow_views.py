"""Submitting and reviewing cases: the step-by-step wizard, the privacy check, the review queue and decisions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from catalogue.cases import services
from catalogue.cases import tasks as case_tasks
from catalogue.cases.forms import (
    FIELD_LABELS,
    FIELD_STEPS,
    PRIVACY_KIND_LABELS,
    REFUSAL_OUTCOMES,
    ChangesForm,
    DepthForm,
    EssentialsForm,
    PublishForm,
    SubmitCaseForm,
    TranslationsForm,
    WithdrawForm,
)
from catalogue.cases.models import Case
from catalogue.cases.services import CaseError
from network.core.access import current_member, ensure, requires
from network.core.audit import AuditEntry
from network.core.db import db, mark_failed
from network.core.forms import show_domain_error
from network.core.reference import provision_subject, untoc_article_subjects
from network.members.access import is_member, is_moderator
from network.members.models import Member

bp = Blueprint("case_workflow", __name__, url_prefix="/cases")
bp.record_once(lambda state: case_tasks.register(state.app))  # tasks on the home page

STEPS = (
    (1, "essentials", EssentialsForm),
    (2, "depth", DepthForm),
    (3, "translations", TranslationsForm),
    (4, "check", None),
)
LAST_STEP = len(STEPS)


# ---------------------------------------------------------------- helpers

def _case_or_404(reference: str) -> Case:
    case = services.find_case(reference)
    if case is None:
        abort(404)
    return case


def _fail(error: CaseError, template: str, form=None, **context):
    """Roll back the request, show the error at its field (or at the top), answer 400."""
    show_domain_error(form, error)
    return render_template(template, form=form, **context), 400


def _step_titles() -> dict[int, str]:
    return {1: _("The essentials"), 2: _("More detail"), 3: _("Translations"), 4: _("Check and submit")}


def _field_label(field: str) -> str:
    """"summary" -> "Summary"; "translations.fr.title" -> "Title (translation fr)"."""
    if field.startswith("translations."):
        _prefix, lang, *rest = field.split(".") + [""]
        inner = FIELD_LABELS.get(rest[0], rest[0]) if rest and rest[0] else ""
        return _("%(field)s (translation %(lang)s)", field=inner, lang=lang) if inner else \
            _("Translation %(lang)s", lang=lang)
    return str(FIELD_LABELS.get(field, field))


def privacy_check(case: Case) -> list[dict]:
    """services.privacy_warnings, with translated labels and the wizard step that holds each field."""
    found = []
    for warning in services.privacy_warnings(case):
        field = warning["field"]
        found.append({**warning, "field_label": _field_label(field),
                      "kind_label": str(PRIVACY_KIND_LABELS.get(warning["kind"], warning["label"])),
                      "step": FIELD_STEPS.get(field.split(".")[0], 1)})
    return found


def completeness_problems(case: Case) -> list[dict]:
    """services.validation_errors of the case as it would be exported, each with the step that fixes it."""
    data = services.case_to_dict(case)
    problems = []
    for message in services.validation_errors(data):
        where, _sep, detail = message.partition(": ")
        field = where.split(".")[0]
        if field in services.REQUIRED and data.get(field) in ("", [], None):
            text = _("%(field)s is missing.", field=_field_label(field))
        else:
            text = f"{_field_label(field)}: {detail or message}"
        problems.append({"field": field, "message": text, "step": FIELD_STEPS.get(field, 1)})
    return problems


def _case_history(case: Case) -> list[dict]:
    """The audit entries of the case, oldest first, with the actor's name."""
    entries = list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == "Case", AuditEntry.target_id == str(case.id))
        .order_by(AuditEntry.id)))
    actors = {m.id: m for m in db.session.scalars(
        select(Member).where(Member.id.in_({e.actor_id for e in entries if e.actor_id})))}
    return [{"entry": e, "actor": actors.get(e.actor_id), "details": e.details_dict} for e in entries]


# ---------------------------------------------------------------- starting a case

@bp.route("/new", methods=["GET", "POST"])
@requires(is_member)
def new_case():
    """GET explains what the wizard asks; POST opens a draft and goes to step 1."""
    member = current_member()
    if request.method == "GET":
        drafts = [c for c in services.my_cases(member) if c.status in services.EDITABLE]
        return render_template("catalogue/wizard_start.html", drafts=drafts, step_titles=_step_titles())
    try:  # CSRFProtect has checked the token already; there is nothing else to check
        case = services.create_draft(member, language=_preferred_language())
    except CaseError as error:
        return _fail(error, "catalogue/wizard_start.html", drafts=[], step_titles=_step_titles())
    return redirect(url_for("case_workflow.wizard", reference=case.reference, step=1))


def _preferred_language() -> str:
    locale = str(get_locale() or "en")
    return locale.split("_")[0] or "en"


# ---------------------------------------------------------------- the wizard

def _own_editable_case(reference: str) -> Case | None:
    """The member's own case in draft (or sent back for changes); 404 for anybody else's.
    None when it is the member's but no longer editable (the caller sends them to "My cases")."""
    member = current_member()
    case = services.find_case(reference)
    ensure(case is not None and case.submitter_id == member.id)
    if not services.can_edit_case(member, case):
        return None
    return case


def _not_editable():
    flash(_("This case is with the reviewers or published: it cannot be changed now. "
            "To change a published case, choose “Revise” in My cases."), "info")
    return redirect(url_for("case_workflow.mine"))


def _render_step(case: Case, step: int, form, status: int = 200):
    context = {"case": case, "step": step, "steps": _step_titles(), "form": form, "last_step": LAST_STEP}
    if step == 1:
        context["provisions"] = [(p, provision_subject(p)) for p in case.untoc_provisions or []]
        context["article_subjects"] = [(a, provision_subject(a)) for a in untoc_article_subjects() if "(" not in a]
    if step == 2:
        context["asks_refusal_grounds"] = case.outcome in REFUSAL_OUTCOMES
    if step == LAST_STEP:
        context["warnings"] = privacy_check(case)
        context["problems"] = completeness_problems(case)
        context["submit_form"] = form
    return render_template(f"catalogue/wizard_step{step}.html", **context), status


@bp.route("/drafts/<reference>/step/<int:step>", methods=["GET", "POST"])
@requires(is_member)
def wizard(reference: str, step: int):
    if not 1 <= step <= LAST_STEP:
        abort(404)
    case = _own_editable_case(reference)
    if case is None:
        return _not_editable()
    if step == LAST_STEP:
        if request.method == "POST":
            return redirect(url_for("case_workflow.wizard", reference=reference, step=step), 303)
        return _render_step(case, step, SubmitCaseForm())
    form_class = STEPS[step - 1][2]
    if request.method == "GET":
        return _render_step(case, step, form_class.for_case(case))
    form = form_class(case)
    if not form.validate_on_submit():
        if form.action.errors:
            flash(_("Choose “Save and continue”, “Save as draft” or “Back”."), "danger")
        return _render_step(case, step, form, 400)
    action = form.action.data
    reached = step + 1 if action == "next" else step
    try:
        services.save_draft(case, current_member(), form.values(), reached)
    except CaseError as error:
        mark_failed()
        flash(error.message, "danger")
        return _render_step(case, step, form, 400)
    if action == "save":
        flash(_("Draft saved."), "success")
        target = step
    else:
        target = step + 1 if action == "next" else max(1, step - 1)
    return redirect(url_for("case_workflow.wizard", reference=reference, step=target))


@bp.post("/drafts/<reference>/submit")
@requires(is_member)
def submit(reference: str):
    case = _own_editable_case(reference)
    if case is None:
        return _not_editable()
    form = SubmitCaseForm()
    if not form.validate_on_submit():
        return _render_step(case, LAST_STEP, form, 400)
    try:
        services.submit(case, current_member(), anonymised=bool(form.anonymised.data))
    except CaseError as error:
        show_domain_error(form, error)
        return _render_step(services.find_case(reference), LAST_STEP, form, 400)
    flash(_("Your case was submitted. A moderator will review it; you will hear by e-mail."), "success")
    return redirect(url_for("case_workflow.mine"))


# ---------------------------------------------------------------- the member's own cases

@bp.get("/mine")
@requires(is_member)
def mine():
    return _render_mine()


def _render_mine(status: int = 200):
    return render_template("catalogue/mine.html", cases=services.my_cases(current_member()),
                           form=WithdrawForm(), last_step=LAST_STEP), status


@bp.post("/<reference>/revise")
@requires(is_member)
def revise(reference: str):
    """The submitter takes a published or withdrawn case back into draft; the published revisions stay."""
    member = current_member()
    case = _case_or_404(reference)
    ensure(case.submitter_id == member.id)
    try:
        services.reopen(case, member)
    except CaseError as error:
        mark_failed()
        flash(error.message, "danger")
        return _render_mine(400)
    flash(_("The case is a draft again and is off the catalogue until a moderator publishes your new version; "
            "its earlier revisions are kept."), "info")
    return redirect(url_for("case_workflow.wizard", reference=reference, step=1))


@bp.route("/<reference>/withdraw", methods=["GET", "POST"])
@requires(is_member)
def withdraw(reference: str):
    member = current_member()
    case = _case_or_404(reference)
    ensure(services.can_withdraw_case(member, case))
    form = WithdrawForm()
    if not form.validate_on_submit():
        return render_template("catalogue/review_withdraw.html", case=case, form=form), \
            400 if request.method == "POST" else 200
    try:
        services.withdraw(case, member, form.reason.data or "")
    except CaseError as error:
        return _fail(error, "catalogue/review_withdraw.html", form=form, case=case)
    flash(_("The case was withdrawn from the catalogue."), "success")
    return redirect(url_for("case_workflow.review_queue" if case.submitter_id != member.id else "case_workflow.mine"))


# ---------------------------------------------------------------- review (moderators)

@bp.get("/review")
@requires(is_moderator)
def review_queue():
    return render_template("catalogue/review_queue.html", cases=services.review_queue(current_member()))


def _reviewed_case(reference: str) -> Case:
    case = _case_or_404(reference)
    ensure(case.status != "draft" and services.can_read_case(current_member(), case))
    return case


def _review_context(case: Case, **forms) -> dict:
    member = current_member()
    return {
        "case": case,
        "warnings": privacy_check(case),
        "problems": completeness_problems(case),
        "history": _case_history(case),
        "can_review": services.can_review_case(member, case),
        "can_withdraw": services.can_withdraw_case(member, case),
        "own_case": case.submitter_id == member.id,
        "changes_form": forms.get("changes_form") or ChangesForm(),
        "publish_form": forms.get("publish_form") or PublishForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
    }


@bp.get("/<reference>/review")
@requires(is_moderator)
def review(reference: str):
    case = _reviewed_case(reference)
    return render_template("catalogue/review.html", **_review_context(case))


@bp.post("/<reference>/review/start")
@requires(is_moderator)
def start_review(reference: str):
    case = _reviewed_case(reference)
    try:
        services.start_review(case, current_member())
    except CaseError as error:
        return _fail(error, "catalogue/review.html", **_review_context(case))
    flash(_("You are reviewing this case. The submitter was told by e-mail."), "success")
    return redirect(url_for("case_workflow.review", reference=reference))


@bp.post("/<reference>/review/changes")
@requires(is_moderator)
def request_changes(reference: str):
    case = _reviewed_case(reference)
    form = ChangesForm()
    if not form.validate_on_submit():
        return render_template("catalogue/review.html", **_review_context(case, changes_form=form)), 400
    try:
        services.request_changes(case, current_member(), form.note.data or "")
    except CaseError as error:
        return _fail(error, "catalogue/review.html", form=form, **_review_context(case, changes_form=form))
    flash(_("The case went back to its submitter with your note."), "success")
    return redirect(url_for("case_workflow.review_queue"))


@bp.post("/<reference>/review/publish")
@requires(is_moderator)
def publish(reference: str):
    case = _reviewed_case(reference)
    form = PublishForm()
    if not form.validate_on_submit():
        return render_template("catalogue/review.html", **_review_context(case, publish_form=form)), 400
    try:
        revision = services.publish(case, current_member(), form.note.data or "")
    except CaseError as error:
        return _fail(error, "catalogue/review.html", form=form, **_review_context(case, publish_form=form))
    flash(_("Revision %(n)d of the case is published. The submitter was told by e-mail.", n=revision.number),
          "success")
    return redirect(url_for("catalogue.case_page", reference=reference))
