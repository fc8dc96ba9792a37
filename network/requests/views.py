"""Routes for the register, drafting step by step, the review (requested State, checks, document), sending, the
record both authorities share (status events, status questions, references) and the reminder periods."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from network.core.access import current_member, ensure, requires
from network.core.db import db
from network.core.filenames import disposition
from network.core.forms import show_domain_error
from network.core.labels import is_state, sorted_by_name, state_choices, state_label
from network.directory.models import Authority
from network.members.access import is_member
from network.members.models import Member
from network.messaging import lifecycle, mailboxes
from network.requests import crypto, definitions, hooks, register, services
from network.requests import tasks as request_tasks
from network.requests.forms import (
    ConfirmForm,
    ImportForm,
    NewRequestForm,
    ReferenceForm,
    SendForm,
    SettingsForm,
    StatusForm,
    step_form,
)
from network.requests.models import STATUSES, CooperationRequest

bp = Blueprint("requests", __name__, url_prefix="/requests")


def _register_demo(state) -> None:
    from network.members.demo import register_loader
    from network.requests.demo import load_demo_requests

    register_loader(state.app, load_demo_requests)


bp.record_once(_register_demo)  # `demo load` adds fictional requests in each status (after messaging's keys)
bp.record_once(lambda state: request_tasks.register(state.app))  # tasks on the home page


@bp.app_context_processor
def requests_helpers() -> dict:
    return {"request_status_label": lambda s: services.STATUS_LABELS.get(s, s),
            "request_form_label": lambda f: definitions.FORMS[f].label if f in definitions.FORMS else f,
            "request_field_label": definitions.label, "request_measure_label": definitions.measure_label}


def _not_ready(member: Member):
    """Requests are sealed like messages: the member's keys must be unlocked in this session."""
    if not lifecycle.has_session_keys(member):
        return render_template("requests/locked.html")
    current = lifecycle.current_keys(member)
    if current is not None and current.recovery_confirmed_at is None:
        return redirect(url_for("messages.recovery_key"))
    return None


def _request_for(member: Member, request_id: int) -> CooperationRequest:
    found = db.get_or_404(CooperationRequest, request_id)
    ensure(services.can_read_request(member, found))  # 404 for everyone else, moderators and admins included
    return found


def _content(member: Member, item: CooperationRequest) -> dict | None:
    try:
        return services.read_content(member, item)
    except services.RequestError as error:
        flash(error.message, "warning")
        return None


# ---------------------------------------------------------------- the register

@bp.get("/")
@requires(is_member)
def index():
    member = current_member()
    args = request.args
    filters = register.Filters(
        direction=args.get("direction", "") if args.get("direction", "") in register.DIRECTIONS else "",
        status=args.get("status", "") if args.get("status", "") in STATUSES else "",
        form=args.get("form", "") if args.get("form", "") in definitions.FORMS else "",
        state=args.get("state", "")[:3].upper() if args.get("state", "").isalpha() else "",
        overdue_only=args.get("overdue") == "1")
    held = mailboxes.held_authority_ids(member)
    return render_template("requests/index.html", rows=register.rows(member, filters), filters=filters,
                           statuses=STATUSES, forms=definitions.FORMS, directions=register.DIRECTIONS,
                           holder=bool(held))


@bp.get("/statistics")
@requires(is_member)
def statistics():
    """The member's authority (for its mailbox holders) and the whole network, from clear fields only."""
    from sqlalchemy import or_

    from network.requests import statistics as figures

    member = current_member()
    held = mailboxes.held_authority_ids(member)
    own = None
    if held:
        own = figures.compute(db.session.scalars(select(CooperationRequest).where(or_(
            CooperationRequest.requesting_authority_id.in_(held), CooperationRequest.requested_authority_id.in_(held)))))
    network = figures.compute(db.session.scalars(select(CooperationRequest).where(
        CooperationRequest.status != "draft")))

    def charts(found: dict) -> dict:
        form = lambda code: str(definitions.FORMS[code].label) if code in definitions.FORMS else code  # noqa: E731
        return {
            "form": figures.bar_chart([(form(c), n) for c, n in found["by_form"]], _("Requests by form")),
            "pair": figures.bar_chart([(f"{a} → {b}", n) for (a, b), n in found["by_pair"][:15]],
                                      _("Requests by requesting and requested State")),
            "ack": figures.bar_chart([(form(c), m) for c, m, _n in found["acknowledgement_by_form"]],
                                     _("Median days from sending to acknowledgement, by form"), unit=_("days")),
            "end": figures.bar_chart([(form(c), m) for c, m, _n in found["completion_by_form"]],
                                     _("Median days from sending to completion, by form"), unit=_("days")),
            "grounds": figures.bar_chart([(str(services.REFUSAL_GROUNDS.get(g, g))[:40], n)
                                          for g, n in found["refusals_by_ground"]], _("Refusals by ground")),
        }

    authority = db.session.get(Authority, next(iter(held))) if held else None
    return render_template("requests/statistics.html", own=own, network=network, authority=authority,
                           own_charts=charts(own) if own else None, network_charts=charts(network),
                           grounds=services.REFUSAL_GROUNDS, state_name=state_label)


# ---------------------------------------------------------------- drafting

@bp.route("/new", methods=["GET", "POST"])
@requires(is_member)
def new():
    member = current_member()
    if (stop := _not_ready(member)) is not None:
        return stop
    authorities = sorted_by_name(db.session.scalars(select(Authority).order_by(Authority.name)),
                                 lambda a: state_label(a.state))  # by the State's name, as the picker says it
    # The States, and a territory only where an authority of it is listed (it can be requested there).
    places = state_choices() + sorted_by_name({(a.state, state_label(a.state)) for a in authorities
                                               if not is_state(a.state)}, lambda entry: entry[1])
    form = NewRequestForm(places, [a for a in authorities if a.id != member.authority_id])
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("requests/new.html", form=form), 400
        draft = services.NewDraft(
            form=form.form.data, measures=tuple(form.measures.data or ()), requested_state=form.requested_state.data,
            requested_authority_key=form.requested_authority.data or "", language=form.language.data,
            reference=form.reference.data or "", urgent=form.urgent.data, confidential=form.confidential.data,
            limited_use=form.limited_use.data)
        try:
            item = services.create_draft(member, draft)
        except services.RequestError as error:
            show_domain_error(form, error)
            return render_template("requests/new.html", form=form), 400
        first = definitions.steps_for(services.flags_of(item))[0]
        flash(_("Draft started. It is saved at every step and sealed for you and your authority's mailbox."),
              "success")
        return redirect(url_for("requests.step", request_id=item.id, step=first.key))
    return render_template("requests/new.html", form=form)


@bp.route("/<int:request_id>/draft/<step>", methods=["GET", "POST"])
@requires(is_member)
def step(request_id: int, step: str):
    member = current_member()
    item = db.get_or_404(CooperationRequest, request_id)
    ensure(services.can_edit_draft(member, item))
    if (stop := _not_ready(member)) is not None:
        return stop
    flags = services.flags_of(item)
    steps = definitions.steps_for(flags)
    current = definitions.step_for(flags, step)
    if current is None:
        abort(404)
    content = _content(member, item)
    if content is None:
        return redirect(url_for("requests.record", request_id=item.id))
    form_class = step_form(current)
    form = form_class(data=content["fields"]) if request.method == "GET" else form_class()
    missing: list[str] = []
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            values = {key: getattr(form, key).data or "" for key, _rule in current.fields}
            try:
                result = services.save_step(member, item, current.key, values)
            except services.RequestError as error:
                show_domain_error(form, error)
                status = 400
            else:
                missing = result.missing
                if form.save.data:
                    flash(_("Draft saved. Continue later from the register."), "success")
                    return redirect(url_for("requests.index"))
                if not missing:
                    position = [s.key for s in steps].index(current.key)
                    if position + 1 < len(steps):
                        return redirect(url_for("requests.step", request_id=item.id, step=steps[position + 1].key))
                    return redirect(url_for("requests.review", request_id=item.id))
                for key in missing:
                    getattr(form, key).errors = [_("Essential: %(label)s is missing.",
                                                   label=definitions.label(key))]
                content = services.read_content(member, item)
    done = definitions.all_missing(flags, content["fields"])
    return render_template("requests/step.html", item=item, form=form, step=current, steps=steps, missing=missing,
                           incomplete=done, definitions=definitions, panel=(panel := _panel(item, member)),
                           checks=_checks(item, panel),
                           essential={key for key, rule in current.fields if definitions.is_essential(rule, flags)}
                           ), status


def _panel(item: CooperationRequest, member: Member):
    """The requested State beside the drafter (H5's guidance module), or None when it is not installed."""
    try:
        from network.requests import guidance
    except ImportError:
        return None
    return guidance.requested_state_panel(item.requested_state, item.form, member, urgent=item.urgent)


def _checks(item: CooperationRequest, panel, channel: str = ""):
    if panel is None:
        return []
    from network.requests import guidance

    facts = guidance.DraftFacts(language=item.language, channel=channel or item.original_channel or "",
                                urgent=item.urgent, form=item.form)
    return guidance.checkable_requirements(panel, facts)


@bp.get("/<int:request_id>/review")
@requires(is_member)
def review(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    return _review_page(member, item, SendForm(channel="direct"))


def _review_page(member: Member, item: CooperationRequest, send_form: SendForm):
    content = _content(member, item)
    if content is None:
        return redirect(url_for("requests.record", request_id=item.id))
    flags = services.flags_of(item)
    panel = _panel(item, member)
    return render_template("requests/review.html", item=item, content=content, steps=definitions.steps_for(flags),
                           missing=definitions.all_missing(flags, content["fields"]), panel=panel,
                           checks=_checks(item, panel, send_form.channel.data or ""), send_form=send_form,
                           can_send=services.can_send(member, item), can_edit=services.can_edit_draft(member, item),
                           has_document=_document_module() is not None,
                           mailbox_open=mailboxes.has_mailbox(item.requested_authority))


def _document_module():
    try:
        from network.requests import document
    except ImportError:
        return None
    return document


@bp.get("/<int:request_id>/document.<fmt>")
@requires(is_member)
def document(request_id: int, fmt: str):
    member = current_member()
    item = _request_for(member, request_id)
    module = _document_module()
    if fmt not in ("html", "pdf", "docx") or module is None:
        abort(404)
    if (stop := _not_ready(member)) is not None:
        return stop
    try:
        doc = services.document_of(member, item)
    except services.RequestError as error:
        flash(error.message, "warning")
        return redirect(url_for("requests.record", request_id=item.id))
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in (item.requesting_reference or item.public_id))
    if fmt == "html":
        return render_template("requests/print.html", item=item, body=module.document_html(doc))
    data, mimetype = ((module.document_pdf(doc), "application/pdf") if fmt == "pdf" else
                      (module.document_docx(doc),
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", **disposition(f"request-{name}.{fmt}"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:request_id>/send")
@requires(is_member)
def send(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    form = SendForm()
    if not form.validate_on_submit():
        return _review_page(member, item, form), 400
    try:
        services.send(member, item, channel=form.channel.data, original_sent_on=form.original_sent_on.data)
    except services.RequestError as error:
        show_domain_error(form, error)
        return _review_page(member, item, form), 400
    flash(_("The advance copy is in %(authority)s's mailbox. Send the formal original by the channel you recorded.",
            authority=item.requested_authority.name), "success")
    return redirect(url_for("requests.record", request_id=item.id))


# ---------------------------------------------------------------- the shared record

@bp.get("/<int:request_id>")
@requires(is_member)
def record(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    return _record_page(member, item)


def _record_page(member: Member, item: CooperationRequest, *, status_form: StatusForm | None = None,
                 reference_form: ReferenceForm | None = None):
    content = _content(member, item)
    side = services.side_of(member, item)
    allowed = services.allowed_statuses(member, item)
    if status_form is None and allowed:
        status_form = StatusForm(allowed, formdata=None)
    if reference_form is None and side:
        reference_form = ReferenceForm(formdata=None, reference=(item.requested_reference if side == "requested"
                                                                 else item.requesting_reference))
    return render_template(
        "requests/record.html", item=item, content=content, side=side, chain=crypto.verify_chain(item),
        events=services.shown_events(member, item), status_form=status_form if allowed else None,
        reference_form=reference_form if side else None,
        can_ask=side == "requesting" and item.status in services.OPEN, confirm=ConfirmForm(formdata=None),
        overdue=services.overdue(item), steps=definitions.steps_for(services.flags_of(item)),
        can_edit=services.can_edit_draft(member, item), channel_label=services.channel_label,
        can_refuse="refused" in allowed,
        can_propose=services.can_propose_case(member, item) and hooks.case_draft_handler() is not None)


@bp.get("/<int:request_id>/export")
@requires(is_member)
def export(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    try:
        data = services.export(member, item)
    except services.RequestError as error:
        flash(error.message, "danger")
        return redirect(url_for("requests.record", request_id=item.id))
    response = Response(data, mimetype="application/json")
    response.headers.set("Content-Disposition", "attachment", **disposition(f"request-{item.public_id}.json"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:request_id>/propose-case")
@requires(is_member)
def propose_case(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        target = services.propose_case(member, item)
    except services.RequestError as error:
        show_domain_error(form, error)
        return _record_page(member, item), 400
    flash(_("A case draft was made from the request. Take out every name, number and detail that identifies a person "
            "or the case before you submit it."), "warning")
    return redirect(target)


@bp.post("/<int:request_id>/status")
@requires(is_member)
def change_status(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    form = StatusForm(services.allowed_statuses(member, item))
    if not form.validate_on_submit():
        return _record_page(member, item, status_form=form), 400
    try:
        services.change_status(member, item, form.status.data, form.note.data or "", ground=form.ground.data or "")
    except services.RequestError as error:
        show_domain_error(form, error)
        return _record_page(member, item, status_form=form), 400
    flash(_("Recorded and signed: %(status)s.", status=services.STATUS_LABELS[item.status]), "success")
    return redirect(url_for("requests.record", request_id=item.id))


@bp.post("/<int:request_id>/status-query")
@requires(is_member)
def status_query(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.ask_status(member, item)
    except services.RequestError as error:
        show_domain_error(form, error)
        return _record_page(member, item), 400
    flash(_("Your question on the status of the request was sent to %(authority)s (article 18 (24)).",
            authority=item.requested_authority.name), "success")
    return redirect(url_for("requests.record", request_id=item.id))


@bp.post("/<int:request_id>/reference")
@requires(is_member)
def reference(request_id: int):
    member = current_member()
    item = _request_for(member, request_id)
    form = ReferenceForm()
    if not form.validate_on_submit():
        return _record_page(member, item, reference_form=form), 400
    try:
        services.set_reference(member, item, form.reference.data or "")
    except services.RequestError as error:
        show_domain_error(form, error)
        return _record_page(member, item, reference_form=form), 400
    flash(_("Reference saved."), "success")
    return redirect(url_for("requests.record", request_id=item.id))


# ---------------------------------------------------------------- importing past requests

IMPORT_MAX_BYTES = 5 * 1024 * 1024


@bp.route("/import", methods=["GET", "POST"])
@requires(is_member)
def import_requests():
    member = current_member()
    held = sorted(mailboxes.held_authority_ids(member))
    ensure(bool(held))  # only an authority's mailbox holders import into its register
    if (stop := _not_ready(member)) is not None:
        return stop
    authority = db.session.get(Authority, held[0])
    form = ImportForm()
    if request.method == "POST":
        upload = form.file.data if form.validate_on_submit() else None
        if upload is None or not getattr(upload, "filename", ""):
            if not form.file.errors:
                form.file.errors = [_("Choose a JSON Lines file.")]
            return render_template("requests/import.html", form=form, authority=authority), 400
        data = upload.stream.read(IMPORT_MAX_BYTES + 1)
        try:
            if len(data) > IMPORT_MAX_BYTES:
                raise services.RequestError(_("The file is larger than 5 MB."), field="file")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise services.RequestError(_("The file is not UTF-8 text."), field="file") from error
            imported = services.import_jsonl(member, authority, text)
        except services.RequestError as error:
            show_domain_error(form, error)
            return render_template("requests/import.html", form=form, authority=authority), 400
        flash(ngettext("One request imported.", "%(num)d requests imported.", len(imported)), "success")
        return redirect(url_for("requests.index"))
    return render_template("requests/import.html", form=form, authority=authority)


# ---------------------------------------------------------------- reminder periods

@bp.route("/settings", methods=["GET", "POST"])
@requires(is_member)
def settings():
    member = current_member()
    held = [a for a in mailboxes.held_authority_ids(member)]
    ensure(bool(held))  # only an authority's mailbox holders set its periods
    authority = db.session.get(Authority, held[0])
    current = services.settings_for(authority.id)
    form = SettingsForm(obj=current) if request.method == "GET" else SettingsForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("requests/settings.html", form=form, authority=authority), 400
        try:
            services.update_settings(member, authority, form.acknowledge_days.data, form.status_days.data)
        except services.RequestError as error:
            show_domain_error(form, error)
            return render_template("requests/settings.html", form=form, authority=authority), 400
        flash(_("Reminder periods saved."), "success")
        return redirect(url_for("requests.index"))
    return render_template("requests/settings.html", form=form, authority=authority)
