"""Routes for applying, signing in, the second factor, the member's security page, vetting and roles."""
from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from time import monotonic, sleep
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select

from network.core import audit
from network.core.access import current_member, ensure, public, requires, security_log
from network.core.audit import AuditEntry
from network.core.clock import utcnow
from network.core.db import db, mark_failed
from network.core.errors import refused_and_recorded
from network.core.forms import show_domain_error
from network.core.i18n import current_language
from network.core.reference import language_name, vocabulary_label
from network.core.sessions import WebSession, delete_member_sessions
from network.core.text import has_control
from network.directory.models import Authority
from network.members import services, totp
from network.members import tasks as member_tasks
from network.members.access import (
    can_act_on_member,
    can_browse_audit,
    can_manage_members,
    can_manage_roles,
    can_reconfirm_members,
    can_vet_members,
    can_vouch_for,
    is_focal_point,
    is_member,
)
from network.members.devices import device_summary
from network.members.forms import (
    AnswerForm,
    ApplicationForm,
    AuditFilterForm,
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    DecisionForm,
    ForgotPasswordForm,
    ReasonForm,
    ReauthForm,
    RefereeForm,
    ResetPasswordForm,
    RoleForm,
    SignInForm,
    SuspendForm,
    VouchForm,
    role_name,
)
from network.members.models import Application, Member, RoleGrant
from network.members.services import MembershipError, Throttled
from network.messaging import kept as kept_messages
from network.messaging import lifecycle as messaging_keys

bp = Blueprint("members", __name__)
bp.record_once(lambda state: member_tasks.register(state.app))  # tasks on the home page
bp.add_app_template_filter(role_name, "role_name")

PENDING_MAX_AGE = timedelta(minutes=5)
DEVICE_COOKIE_DAYS = 180


# ---------------------------------------------------------------- helpers

def _fail(form, error: MembershipError, template: str, **context):
    """Roll back the request, show the error at its field (or at the top), answer 400 (429 if throttled)."""
    show_domain_error(form, error)
    return render_template(template, form=form, **context), 429 if isinstance(error, Throttled) else 400


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return url_for("home.index")
    if len(target) > 2000 or has_control(target):
        return url_for("home.index")  # a control character in a Location header answered 500
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home.index")
    return target


def _authorities() -> list[Authority]:
    return list(db.session.scalars(select(Authority).order_by(Authority.state, Authority.name)))


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="network/device")


def _device_cookie_name() -> str:
    return "__Host-device" if current_app.config["SESSION_COOKIE_SECURE"] else "device"


def _email_tag(email: str) -> str:
    return hashlib.sha256(services.normalise_email(email).encode()).hexdigest()[:32]


def _trusted_device(email: str) -> bool:
    raw = request.cookies.get(_device_cookie_name())
    if not raw:
        return False
    try:
        tag = _device_serializer().loads(raw, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadSignature:
        return False
    return tag == _email_tag(email)


def _pending() -> tuple[Member, dict] | None:
    pending = session.get("pending")
    if not pending:
        return None
    if utcnow() - datetime.fromisoformat(pending["at"]) > PENDING_MAX_AGE:
        session.pop("pending", None)
        return None
    member = db.session.get(Member, pending["id"])
    if member is None or member.status != "active":
        session.pop("pending", None)
        return None
    return member, pending


def _mail_after_response() -> None:
    """Hand the mail this request queues to SMTP only once the response has gone (the WSGI server closes it),
    not in the request as every other route does: the answer then takes the same time whether a mail was
    queued or not, and never waits for the mail server. What stays unsent is sent by `flask mail flush`.
    MAIL_AFTER_RESPONSE (config/defaults.py) can turn this off."""
    app = current_app._get_current_object()
    if not app.config.get("MAIL_AFTER_RESPONSE") or app.config.get("MAIL_SENT_BY_WORKER"):
        return  # in the request; or not at all, when the worker sends the outbox

    @after_this_request
    def later(response: Response) -> Response:  # runs before the request's commit
        ids = g.pop("queued_mail_ids", None)  # so the commit hook does not send them now
        if ids:
            def hand_over() -> None:
                from network.core.mail import OutboxMail, deliver

                with app.app_context():
                    try:
                        # The server may close the response before the request's own commit is visible to a new
                        # connection (seen with the threaded development server): wait a moment for the rows.
                        deadline = monotonic() + 3.0
                        while True:
                            mails = list(db.session.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids))))
                            if len(mails) == len(ids) or monotonic() > deadline:
                                break
                            db.session.rollback()
                            sleep(0.05)
                        deliver(mails)
                    except Exception:  # the response is gone: log, and leave the mail to `mail flush`
                        current_app.logger.exception("mail %s not handed over after the response", ids)

            response.call_on_close(hand_over)
        return response


def _complete_sign_in(member: Member, method: str, respond, trusted_device: bool = False) -> Response:
    """Second factor passed: a new session (new token), the member signed in, the device remembered.
    `respond` builds the response once the member is signed in (so the page shows the signed-in layout)."""
    carried = messaging_keys.carry_over(member)  # unsealed under the old token, sealed again under the new one
    session.clear()
    session.regenerate()
    login_user(member)
    session["mfa_ok"] = True
    session["authenticated_at"] = utcnow().isoformat()
    messaging_keys.finish_sign_in(member, carried)
    services.signed_in(member, method, trusted_device=trusted_device)
    response = make_response(respond())
    response.set_cookie(_device_cookie_name(), _device_serializer().dumps(_email_tag(member.email)),
                        max_age=DEVICE_COOKIE_DAYS * 86400, secure=current_app.config["SESSION_COOKIE_SECURE"],
                        httponly=True, samesite="Strict", path="/")
    return response


# ---------------------------------------------------------------- applying

@bp.route("/apply", methods=["GET", "POST"])
@public
def apply():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    authorities = _authorities()
    form = ApplicationForm(authorities)
    if not form.validate_on_submit():
        return render_template("members/apply.html", form=form, authorities=authorities), \
            400 if request.method == "POST" else 200
    data = services.ApplicationInput(
        name=form.name.data, email=form.email.data, password=form.password.data, state=form.state.data,
        authority_id=int(form.authority.data) if form.authority.data not in ("", "other") else None,
        authority_other=form.authority_other.data or "" if form.authority.data == "other" else "",
        position=form.position.data, practitioner_type=form.practitioner_type.data,
        languages=form.languages.data, reason=form.reason.data, referee_email=form.referee_email.data or "",
    )
    _mail_after_response()
    try:
        services.apply(data, address=request.remote_addr or "")
    except MembershipError as error:
        return _fail(form, error, "members/apply.html", authorities=authorities)
    return redirect(url_for("members.application_sent"))


@bp.get("/apply/sent")
@public
def application_sent():
    return render_template("members/application_sent.html")


@bp.get("/apply/verify/<token>")
@public
def verify_email(token: str):
    try:
        services.verify_email(token)
    except MembershipError as error:
        mark_failed()
        return render_template("members/link_problem.html", message=error.message), 400
    return render_template("members/email_verified.html")


@bp.route("/apply/answer/<token>", methods=["GET", "POST"])
@public
def answer_information(token: str):
    try:
        application = services.application_for_info_token(token)
    except MembershipError as error:
        mark_failed()
        return render_template("members/link_problem.html", message=error.message), 400
    form = AnswerForm()
    if not form.validate_on_submit():
        return render_template("members/answer.html", form=form, application=application), \
            400 if request.method == "POST" else 200
    try:
        services.answer_information(token, form.answer.data)
    except MembershipError as error:
        return _fail(form, error, "members/answer.html", application=application)
    flash(_("Thank you. The moderators have your answer."), "success")
    return render_template("members/email_verified.html", answered=True)


@bp.get("/application")
@public
def application_status():
    """What an applicant who signed in sees: the state of the application, nothing of the network."""
    member = current_member()
    if member is None:
        return redirect(url_for("members.sign_in"))
    if member.status != "pending":
        return redirect(url_for("home.index"))
    application = db.session.scalar(select(Application).where(Application.member_id == member.id))
    return render_template("members/application_status.html", application=application)


# ---------------------------------------------------------------- signing in

@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    next_url = request.args.get("next")
    if not form.validate_on_submit():
        if session.pop("expired_notice", False):
            flash(_("Your session ended. Sign in again."), "info")
        return render_template("members/sign_in.html", form=form), 400 if request.method == "POST" else 200
    try:
        member = services.authenticate(form.email.data, form.password.data, request.remote_addr or "",
                                       trusted_device=_trusted_device(form.email.data))
        services.check_can_sign_in(member)
    except MembershipError as error:
        refused_and_recorded(form, error)  # keeps the sign_in.failed / sign_in.throttled entry
        status = 429 if isinstance(error, Throttled) else 401
        return render_template("members/sign_in.html", form=form), status
    session.clear()
    session.regenerate()
    if member.status == "pending":
        login_user(member)
        session["applicant"] = True
        audit.record("sign_in.applicant", member, actor=member)
        return redirect(url_for("members.application_status"))
    stage = "verify" if member.totp_secret else "enrol"
    session["pending"] = {"id": member.id, "stage": stage, "at": utcnow().isoformat(), "next": next_url}
    messaging_keys.unlock_at_password_step(member, form.password.data)
    return redirect(url_for("members.second_factor" if stage == "verify" else "members.enrol"))


@bp.route("/sign-in/verify", methods=["GET", "POST"])
@public
def second_factor():
    found = _pending()
    if found is None or found[1]["stage"] != "verify":
        return redirect(url_for("members.sign_in"))
    member, pending = found
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("members/second_factor.html", form=form), 400 if request.method == "POST" else 200
    trusted = _trusted_device(member.email)
    try:
        method = services.verify_second_factor(member, form.code.data, trusted_device=trusted)
    except MembershipError as error:
        if isinstance(error, Throttled):
            session.pop("pending", None)
        refused_and_recorded(form, error, field="code")  # keeps the sign_in.mfa_failed entry
        return render_template("members/second_factor.html", form=form), 429 if isinstance(error, Throttled) else 400
    response = _complete_sign_in(member, method, lambda: redirect(_safe_next(pending.get("next"))), trusted)
    if method == "recovery":  # after _complete_sign_in, which clears the session (and its flashes)
        flash(_("You used a recovery code. %(n)d are left; generate new ones on your security page if you are running low.",
                n=services.recovery_codes_left(member)), "warning")
    return response


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@public
def enrol():
    found = _pending()
    if found is None or found[1]["stage"] != "enrol":
        return redirect(url_for("members.sign_in"))
    member, pending = found
    if "secret" not in pending:
        pending["secret"] = totp.new_secret()
        session["pending"] = pending
    form = CodeForm()
    context = {"secret": pending["secret"], "member": member}
    if not form.validate_on_submit():
        return render_template("members/enrol.html", form=form, **context), 400 if request.method == "POST" else 200
    trusted = _trusted_device(member.email)
    try:
        codes = services.enrol_totp(member, pending["secret"], form.code.data, trusted_device=trusted)
    except MembershipError as error:
        refused_and_recorded(form, error, field="code")  # keeps the sign_in.mfa_failed entry
        return render_template("members/enrol.html", form=form, **context), 429 if isinstance(error, Throttled) else 400
    return _complete_sign_in(member, "totp_enrolment", lambda: render_template(
        "members/recovery_codes.html", codes=codes, first_time=True, next_url=_safe_next(pending.get("next"))),
        trusted)


@bp.get("/sign-in/enrol/qr.svg")
@public
def enrol_qr():
    found = _pending()
    if found is None or "secret" not in found[1]:
        abort(404)
    member, pending = found
    svg = totp.qr_svg(totp.provisioning_uri(pending["secret"], member.email))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.post("/sign-out")
@public
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    member = current_member()
    if member is not None:
        audit.record("sign_out", member, actor=member)
        kept_messages.PLAINTEXTS.forget_member(member.id)  # this process's opened messages of the member, at once
        logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    response = redirect(url_for("members.sign_in"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/reauthenticate", methods=["GET", "POST"])
@requires(is_member)
def reauthenticate():
    member = current_member()
    form = ReauthForm()
    if not form.validate_on_submit():
        return render_template("members/reauthenticate.html", form=form), 400 if request.method == "POST" else 200
    trusted = _trusted_device(member.email)
    try:
        services.reconfirm_password(member, form.password.data, trusted_device=trusted)
        services.verify_second_factor(member, form.code.data, trusted_device=trusted)
    except MembershipError as error:
        refused_and_recorded(form, error)  # keeps the reauth.failed / sign_in.mfa_failed entry
        return render_template("members/reauthenticate.html", form=form), 429 if isinstance(error, Throttled) else 400
    session["authenticated_at"] = utcnow().isoformat()
    audit.record("reauth.succeeded", member, actor=member)
    return redirect(_safe_next(request.args.get("next")))


# ---------------------------------------------------------------- passwords

@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("members/forgot_password.html", form=form), 400 if request.method == "POST" else 200
    _mail_after_response()
    services.request_password_reset(form.email.data, address=request.remote_addr or "")
    return render_template("members/forgot_password_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        member = services.member_for_reset_token(token)
    except MembershipError as error:
        mark_failed()
        return render_template("members/link_problem.html", message=error.message), 400
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("members/reset_password.html", form=form, member=member), \
            400 if request.method == "POST" else 200
    try:
        services.reset_password(token, form.password.data)
    except MembershipError as error:
        return _fail(form, error, "members/reset_password.html", member=member)
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    flash(_("Your password was changed. Sign in with it and your authentication code."), "success")
    return redirect(url_for("members.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(is_member)
def change_password():
    member = current_member()
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("members/change_password.html", form=form), 400 if request.method == "POST" else 200
    try:
        services.change_password(member, form.current_password.data, form.new_password.data, form.code.data,
                                 keep_session_id=session.session_id, trusted_device=_trusted_device(member.email))
    except MembershipError as error:
        # The service records a wrong current password and wrong codes, and changes nothing before refusing.
        refused_and_recorded(form, error)
        return render_template("members/change_password.html", form=form), 429 if isinstance(error, Throttled) else 400
    session["authenticated_at"] = utcnow().isoformat()
    flash(_("Your password was changed. Your other sessions were signed out."), "success")
    return redirect(url_for("members.security"))


# ---------------------------------------------------------------- the member's security page

@bp.get("/account/security")
@requires(is_member)
def security():
    member = current_member()
    sessions = list(db.session.scalars(
        select(WebSession).where(WebSession.member_id == member.id).order_by(WebSession.last_seen_at.desc())
    ))
    return render_template("members/security.html", member=member, sessions=sessions, device_summary=device_summary,
                           current_session_id=session.session_id, form=ConfirmForm(),
                           codes_left=services.recovery_codes_left(member))


@bp.post("/account/sessions/<session_id>/revoke")
@requires(is_member)
def revoke_session(session_id: str):
    member = current_member()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    record = db.session.get(WebSession, session_id)
    ensure(record is not None and record.member_id == member.id)
    db.session.delete(record)
    audit.record("session.revoked", member, actor=member, current=session_id == session.session_id)
    if session_id == session.session_id:
        logout_user()
        session.clear()
        return redirect(url_for("members.sign_in"))
    flash(_("That session was signed out."), "success")
    return redirect(url_for("members.security"))


@bp.post("/account/sessions/revoke-others")
@requires(is_member)
def revoke_other_sessions():
    member = current_member()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    ended = delete_member_sessions(member.id, except_id=session.session_id)
    audit.record("session.revoked_all_others", member, actor=member, ended=ended)
    flash(_("Signed out everywhere else (%(n)d sessions).", n=ended), "success")
    return redirect(url_for("members.security"))


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@requires(is_member, fresh=True)
def recovery_codes():
    member = current_member()
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        codes = services.regenerate_recovery_codes(member)
        return render_template("members/recovery_codes.html", codes=codes, first_time=False,
                               next_url=url_for("members.security"))
    return render_template("members/recovery_codes_confirm.html", form=form,
                           codes_left=services.recovery_codes_left(member)), 400 if request.method == "POST" else 200


# ---------------------------------------------------------------- focal points and referees

@bp.get("/vouching")
@requires(is_focal_point)
def vouching():
    member = current_member()
    applications = list(db.session.scalars(
        select(Application).join(Member, Member.id == Application.member_id)
        .where(Application.status.in_(("submitted", "info_requested")),
               Member.authority_id.in_(member.focal_point_authority_ids()))
        .order_by(Application.submitted_at)
    ))
    return render_template("members/vouching.html", applications=applications, form=VouchForm(), me=member)


@bp.post("/vouching/<int:application_id>")
@requires(is_focal_point)
def vouch(application_id: int):
    member = current_member()
    application = db.get_or_404(Application, application_id)
    ensure(can_vouch_for(member, application))
    form = VouchForm()
    if not form.validate_on_submit():
        for message in (m for errors in form.errors.values() for m in errors):
            flash(str(message), "danger")  # the list page shows it above the application
        return vouching(), 400
    try:
        services.vouch(application, member, form.decision.data, form.note.data or "")
    except MembershipError as error:
        mark_failed()
        flash(error.message, "danger")
        return redirect(url_for("members.vouching"))
    flash(_("Thank you: your answer was recorded."), "success")
    return redirect(url_for("members.vouching"))


@bp.get("/referee-requests")
@requires(is_member)
def referee_requests():
    member = current_member()
    applications = list(db.session.scalars(
        select(Application).where(Application.referee_id == member.id,
                                  Application.status.in_(("submitted", "info_requested")))
        .order_by(Application.submitted_at)
    ))
    return render_template("members/referee_requests.html", applications=applications, form=RefereeForm())


@bp.post("/referee-requests/<int:application_id>")
@requires(is_member)
def referee_decide(application_id: int):
    member = current_member()
    application = db.get_or_404(Application, application_id)
    ensure(application.referee_id == member.id)
    form = RefereeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.referee_decide(application, member, form.decision.data, form.note.data or "")
    except MembershipError as error:
        mark_failed()
        flash(error.message, "danger")
        return redirect(url_for("members.referee_requests"))
    flash(_("Thank you: your answer was recorded."), "success")
    return redirect(url_for("members.referee_requests"))


@bp.get("/reconfirmations")
@requires(can_reconfirm_members)
def reconfirmations():
    from network.members.tasks import due_for_reconfirmation  # the home page counts the same list

    due = list(db.session.scalars(due_for_reconfirmation(current_member()).order_by(Member.confirmed_until)))
    return render_template("members/reconfirmations.html", members=due, form=ConfirmForm(), now=utcnow())


@bp.post("/members/<int:member_id>/reconfirm")
@requires(can_reconfirm_members)
def reconfirm(member_id: int):
    actor = current_member()
    member = db.get_or_404(Member, member_id)
    ensure(services.can_reconfirm(actor, member))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.reconfirm(member, actor)
    except MembershipError as error:
        mark_failed()
        flash(error.message, "danger")
    else:
        flash(_("%(name)s is confirmed for another year.", name=member.name), "success")
    return redirect(url_for("members.reconfirmations"))


# ---------------------------------------------------------------- vetting

@bp.get("/vetting")
@requires(can_vet_members)
def vetting_queue():
    return render_template("members/vetting_queue.html", applications=services.vetting_queue_page(), now=utcnow(),
                           reminder_hours=current_app.config["VETTING_REMINDER_HOURS"])


def _application_context(application: Application) -> dict:
    """What the application page shows besides the form: the applicant's practitioner type and working languages
    in the reader's language (never the stored codes), the focal points asked."""
    language = current_language()
    member = application.member
    return {"application": application, "now": utcnow(),
            "focal_points": services.focal_points_of(member.authority_id),
            "practitioner_label": vocabulary_label("practitioner_types", member.practitioner_type, language),
            "language_names": [language_name(code, language) for code in member.languages or ()]}


@bp.get("/vetting/<int:application_id>")
@requires(can_vet_members)
def application_detail(application_id: int):
    application = db.get_or_404(Application, application_id)
    return render_template("members/application_detail.html", form=DecisionForm(), **_application_context(application))


@bp.post("/vetting/<int:application_id>/decide")
@requires(can_vet_members)
def decide(application_id: int):
    moderator = current_member()
    application = db.get_or_404(Application, application_id)
    form = DecisionForm()
    context = _application_context(application)
    if not form.validate_on_submit():
        return render_template("members/application_detail.html", form=form, **context), 400
    try:
        if form.decision.data == "approve":
            services.approve(application, moderator, form.note.data or "")
            flash(_("Application approved. The new member was told by e-mail."), "success")
        elif form.decision.data == "reject":
            services.reject(application, moderator, form.note.data or "")
            flash(_("Application rejected. The applicant was told by e-mail."), "success")
        else:
            services.request_information(application, moderator, form.note.data or "")
            flash(_("Your question was sent to the applicant."), "success")
    except MembershipError as error:
        return _fail(form, error, "members/application_detail.html", **context)
    return redirect(url_for("members.vetting_queue"))


# ---------------------------------------------------------------- managing members

@bp.get("/members")
@requires(can_manage_members)
def member_list():
    status = request.args.get("status", "")
    query = select(Member).order_by(Member.name)
    if status in ("pending", "active", "suspended", "lapsed", "deactivated"):
        query = query.where(Member.status == status)
    return render_template("members/member_list.html", members=list(db.session.scalars(query)), status=status)


@bp.get("/members/<int:member_id>/manage")
@requires(can_manage_members)
def manage_member(member_id: int):
    member = db.get_or_404(Member, member_id)
    authorities = _authorities()
    return render_template("members/manage.html", member=member, suspend_form=SuspendForm(),
                           reason_form=ReasonForm(), role_form=RoleForm(authorities), form=ConfirmForm())


def _manage_fail(member: Member, error: MembershipError):
    mark_failed()
    flash(error.message, "danger")
    return redirect(url_for("members.manage_member", member_id=member.id))


def _may_act_on(member: Member) -> None:
    """The role limit as a 403: only administrators act on moderators and administrators."""
    if not can_act_on_member(current_member(), member):
        security_log.warning("role limit refused member=%s target=%s path=%r", current_member().id, member.id,
                             request.path)
        abort(403)


@bp.post("/members/<int:member_id>/suspend")
@requires(can_manage_members)
def suspend(member_id: int):
    member = db.get_or_404(Member, member_id)
    _may_act_on(member)
    form = SuspendForm()
    if not form.validate_on_submit():
        return render_template("members/manage.html", member=member, suspend_form=form, reason_form=ReasonForm(),
                               role_form=RoleForm(_authorities()), form=ConfirmForm()), 400
    until = datetime.combine(form.until.data, time.min) if form.until.data else None
    try:
        services.suspend(member, current_member(), form.reason.data, until)
    except MembershipError as error:
        return _manage_fail(member, error)
    flash(_("%(name)s is suspended and was signed out everywhere.", name=member.name), "success")
    return redirect(url_for("members.manage_member", member_id=member.id))


@bp.post("/members/<int:member_id>/reinstate")
@requires(can_manage_members)
def reinstate(member_id: int):
    member = db.get_or_404(Member, member_id)
    _may_act_on(member)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.reinstate(member, current_member())
    except MembershipError as error:
        return _manage_fail(member, error)
    flash(_("%(name)s is active again.", name=member.name), "success")
    return redirect(url_for("members.manage_member", member_id=member.id))


@bp.post("/members/<int:member_id>/deactivate")
@requires(can_manage_roles, fresh=True)
def deactivate(member_id: int):
    member = db.get_or_404(Member, member_id)
    _may_act_on(member)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason."), "danger")
        return redirect(url_for("members.manage_member", member_id=member.id))
    try:
        services.deactivate(member, current_member(), form.reason.data)
    except MembershipError as error:
        return _manage_fail(member, error)
    flash(_("The account is closed."), "success")
    return redirect(url_for("members.manage_member", member_id=member.id))


@bp.post("/members/<int:member_id>/roles")
@requires(can_manage_roles, fresh=True)
def grant_role(member_id: int):
    member = db.get_or_404(Member, member_id)
    form = RoleForm(_authorities())
    if not form.validate_on_submit():
        flash(_("Choose a role, and an authority for a focal point."), "danger")
        return redirect(url_for("members.manage_member", member_id=member.id))
    authority = db.session.get(Authority, int(form.authority.data)) if form.authority.data else None
    try:
        services.grant_role(member, form.role.data, current_member(), authority)
    except MembershipError as error:
        return _manage_fail(member, error)
    flash(_("Role granted."), "success")
    return redirect(url_for("members.manage_member", member_id=member.id))


@bp.post("/members/<int:member_id>/roles/<int:grant_id>/withdraw")
@requires(can_manage_roles, fresh=True)
def withdraw_role(member_id: int, grant_id: int):
    member = db.get_or_404(Member, member_id)
    grant = db.get_or_404(RoleGrant, grant_id)
    ensure(grant.member_id == member.id)
    _may_act_on(member)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_role(grant, current_member())
    except MembershipError as error:
        return _manage_fail(member, error)
    flash(_("Role withdrawn."), "success")
    return redirect(url_for("members.manage_member", member_id=member.id))


# ---------------------------------------------------------------- audit log

# What an entry's target is, in the reader's language: the entry keeps the model's class name (AuditEntry.target_type),
# a code, shown as such (<code translate="no">) when it is not named here.
AUDIT_TARGETS = {
    "Member": _l("Member %(id)s"), "Application": _l("Application %(id)s"), "RoleGrant": _l("Role %(id)s"),
    "Vouch": _l("Vouch %(id)s"), "ApiToken": _l("API token %(id)s"), "Authority": _l("Authority %(id)s"),
    "AuthorityChange": _l("Directory change %(id)s"), "Conversation": _l("Conversation %(id)s"),
    "Message": _l("Message %(id)s"), "MessageReport": _l("Message report %(id)s"),
    "Attachment": _l("Attachment %(id)s"), "CooperationRequest": _l("Request %(id)s"), "Flag": _l("Flag %(id)s"),
    "ForumGroup": _l("Group %(id)s"), "JoinRequest": _l("Join request %(id)s"), "Space": _l("Space %(id)s"),
    "Topic": _l("Topic %(id)s"), "Post": _l("Post %(id)s"), "Silence": _l("Silence %(id)s"),
    "ModeratorNote": _l("Moderator note %(id)s"), "KeyVerification": _l("Key verification %(id)s"),
}


def audit_target(entry: AuditEntry) -> Markup | str:
    """`{{ audit_target(e) }}`: "Member 12" in the reader's language; an unnamed kind as its code."""
    if not entry.target_type:
        return ""
    named = AUDIT_TARGETS.get(entry.target_type)
    if named is not None:
        return str(named) % {"id": entry.target_id}
    return Markup('<code translate="no">%s</code> %s') % (entry.target_type, entry.target_id)


@bp.get("/audit")
@requires(can_browse_audit)
def audit_log():
    form = AuditFilterForm(request.args)
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    filters = {}
    if form.validate():
        if form.action.data:
            query = query.where(AuditEntry.action.startswith(form.action.data.strip()))
            filters["action"] = form.action.data.strip()
        if form.actor.data:
            query = query.where(AuditEntry.actor_label == services.normalise_email(form.actor.data))
            filters["actor"] = form.actor.data
        if form.target_type.data:
            query = query.where(AuditEntry.target_type == form.target_type.data.strip())
            filters["target_type"] = form.target_type.data.strip()
        if form.date_from.data:
            query = query.where(AuditEntry.created_at >= datetime.combine(form.date_from.data, time.min))
            filters["from"] = form.date_from.data.isoformat()
        if form.date_to.data:
            query = query.where(AuditEntry.created_at < datetime.combine(form.date_to.data, time.min) + timedelta(days=1))
            filters["to"] = form.date_to.data.isoformat()
    page = db.paginate(query, per_page=50, error_out=False)
    audit.record("audit.viewed", None, filters=filters, page=page.page)
    return render_template("members/audit.html", form=form, page=page, audit_target=audit_target)
