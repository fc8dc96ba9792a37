"""Domain operations on members: applying, vetting, signing in, second factor, sessions, roles, revalidation.

Services take plain values, change state, write audit entries and queue mail; they never commit.
They raise MembershipError (a DomainError) with a message fit for the user, before changing anything.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import defaultload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from network.core import audit
from network.core.clock import utcnow
from network.core.crypto import seal, unseal
from network.core.db import db, hold
from network.core.errors import DomainError
from network.core.mail import queue_mail
from network.core.ratelimit import counter
from network.core.sessions import delete_member_sessions
from network.directory.models import Authority, matches_domain
from network.members import passwords, totp
from network.members.models import ROLES, Application, Member, RecoveryCode, RoleGrant, Vouch


class MembershipError(DomainError):
    """A membership rule refused the operation."""


class Throttled(MembershipError):
    """Too many attempts: the caller answers 429."""


# ---------------------------------------------------------------- signed links

def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"network/{purpose}")


def make_link_token(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read_link_token(purpose: str, token: str, max_age: int) -> dict:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise MembershipError(_("This link has expired. Ask for a new one.")) from error
    except BadSignature as error:
        raise MembershipError(_("This link is not valid. Check that you copied it whole.")) from error


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_member(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def moderators() -> list[Member]:
    return list(
        db.session.scalars(
            select(Member).where(
                Member.status == "active",
                Member.id.in_(select(RoleGrant.member_id).where(RoleGrant.role == "moderator")),
            )
        )
    )


def focal_points_of(authority_id: int | None) -> list[Member]:
    if not authority_id:
        return []
    return list(
        db.session.scalars(
            select(Member).where(
                Member.status == "active",
                Member.id.in_(select(RoleGrant.member_id)
                              .where(RoleGrant.role == "focal_point", RoleGrant.authority_id == authority_id)),
            )
        )
    )


# ---------------------------------------------------------------- applications

@dataclass
class ApplicationInput:
    name: str
    email: str
    password: str
    state: str
    authority_id: int | None
    authority_other: str
    position: str
    practitioner_type: str
    languages: list[str] = field(default_factory=list)
    reason: str = ""
    referee_email: str = ""


def apply(data: ApplicationInput, address: str = "") -> Application | None:
    """Record an application and send the verification link. Returns None when the address is taken:
    the applicant sees the same page either way, and the owner of the address is told by mail. Both ways do the
    same work (the password is hashed, one mail is queued), so timing does not tell them apart either.
    Every valid form sent from one client address counts towards APPLY_ADDRESS_LIMIT (Throttled beyond it)."""
    config = current_app.config
    if counter().reserve(f"apply:address:{address}", config["APPLY_ADDRESS_WINDOW"],
                         config["APPLY_ADDRESS_LIMIT"]) is None:
        raise Throttled(_("Too many applications from your network in a short time. Wait an hour and try again."))
    email = normalise_email(data.email)
    authority = db.session.get(Authority, data.authority_id) if data.authority_id else None
    if data.authority_id and authority is None:
        raise MembershipError(_("Choose an authority from the list."), field="authority")
    if authority and authority.state != data.state:
        raise MembershipError(_("This authority belongs to another State."), field="authority")
    if not authority and not data.authority_other.strip():
        raise MembershipError(_("Name your authority if it is not in the list."), field="authority_other")
    problems = passwords.password_problems(data.password, email)
    if problems:
        raise MembershipError(problems[0], field="password")
    password_hash = passwords.hash_password(data.password)  # for taken addresses too: equal work
    existing = find_member(email)
    if existing is not None:
        queue_mail(email, _l("Someone applied with your address"), "members/already_registered",
                   member=existing, sign_in_url=url_for("members.sign_in", _external=True),
                   reset_url=url_for("members.forgot_password", _external=True))
        audit.record("application.duplicate_address", existing, actor=existing)
        return None
    member = Member(
        email=email, name=data.name.strip(), state=data.state, authority_id=authority.id if authority else None,
        authority_other="" if authority else data.authority_other.strip(), position=data.position.strip(),
        practitioner_type=data.practitioner_type, languages=list(data.languages),
        password_hash=password_hash, status="pending",
    )
    db.session.add(member)
    db.session.flush()
    application = Application(member_id=member.id, reason=data.reason.strip(),
                              referee_email=normalise_email(data.referee_email) if data.referee_email else "")
    db.session.add(application)
    db.session.flush()
    audit.record("application.created", application, actor=member, authority=member.authority_name)
    send_verification(application)
    return application


def send_verification(application: Application) -> None:
    token = make_link_token("verify-email", {"a": application.id, "e": application.member.email})
    queue_mail(application.member.email, _l("Confirm your e-mail address"), "members/verify_email",
               application=application, link=url_for("members.verify_email", token=token, _external=True),
               hours=current_app.config["EMAIL_VERIFICATION_MAX_AGE"] // 3600)


def verify_email(token: str) -> Application:
    """The applicant followed the link: the application reaches the moderators, focal points and referee."""
    payload = read_link_token("verify-email", token, current_app.config["EMAIL_VERIFICATION_MAX_AGE"])
    application = db.session.get(Application, payload.get("a"))
    if application is None or application.member.email != payload.get("e"):
        raise MembershipError(_("This link is not valid. Check that you copied it whole."))
    hold(application)  # the link followed twice at once: verified, and the focal points told, once
    if application.status != "unverified":
        return application
    now = utcnow()
    application.email_verified_at = now
    application.submitted_at = now
    application.status = "submitted"
    audit.record("application.email_verified", application, actor=application.member)
    member = application.member
    for focal_point in focal_points_of(member.authority_id):
        queue_mail(focal_point.email, _l("A colleague asks to join the network"), "members/vouch_request",
                   focal_point=focal_point, application=application,
                   link=url_for("members.vouching", _external=True))
    if application.referee_email:
        referee = find_member(application.referee_email)
        if referee is not None and referee.is_vetted and referee.id != member.id:
            application.referee_id = referee.id
            queue_mail(referee.email, _l("You were named as referee"), "members/referee_request",
                       referee=referee, application=application,
                       link=url_for("members.referee_requests", _external=True))
    return application


def vouch(application: Application, focal_point: Member, decision: str, note: str = "") -> Vouch:
    if decision not in ("vouched", "declined"):
        raise MembershipError(_("Choose whether you vouch for this colleague."))
    hold(application)  # one vouch per focal point, even from two requests at once
    if application.status not in ("submitted", "info_requested"):
        raise MembershipError(_("This application has already been decided."))
    if not focal_point.has_role("focal_point", application.member.authority_id):
        raise MembershipError(_("Only focal points of the applicant's authority can vouch."))
    existing = db.session.scalar(
        select(Vouch).where(Vouch.application_id == application.id, Vouch.focal_point_id == focal_point.id)
    )
    if existing is None:
        existing = Vouch(application_id=application.id, focal_point_id=focal_point.id, decision=decision, note=note)
        db.session.add(existing)
    else:
        existing.decision, existing.note, existing.created_at = decision, note, utcnow()
    db.session.flush()
    audit.record(f"application.{decision}", application, actor=focal_point, note=note)
    return existing


def referee_decide(application: Application, referee: Member, decision: str, note: str = "") -> None:
    if decision not in ("confirmed", "declined"):
        raise MembershipError(_("Choose whether you confirm this applicant."))
    if application.referee_id != referee.id:
        raise MembershipError(_("You are not the referee of this application."))
    if application.status not in ("submitted", "info_requested"):
        raise MembershipError(_("This application has already been decided."))
    application.referee_decision, application.referee_note = decision, note
    audit.record(f"application.referee_{decision}", application, actor=referee, note=note)


def _decidable(application: Application) -> None:
    hold(application)  # two moderators deciding at the same moment: the second sees the first's decision
    if application.status not in ("submitted", "info_requested"):
        raise MembershipError(_("This application is not waiting for a decision."))


def approve(application: Application, by: Member, note: str = "") -> Member:
    _decidable(application)
    now = utcnow()
    member = application.member
    application.status, application.decided_at, application.decided_by_id = "approved", now, by.id
    application.decision_note = note
    member.status, member.approved_at, member.status_changed_at = "active", now, now
    member.confirmed_until = now + timedelta(days=current_app.config["MEMBERSHIP_VALIDITY_DAYS"])
    if not member.has_role("member"):
        member.roles.append(RoleGrant(role="member", granted_by_id=by.id))
    audit.record("application.approved", application, actor=by, member=member.email, note=note)
    queue_mail(member.email, _l("Your application was approved"), "members/approved", member=member,
               link=url_for("members.sign_in", _external=True))
    return member


def reject(application: Application, by: Member, reason: str) -> None:
    _decidable(application)
    if not reason.strip():
        raise MembershipError(_("Give the applicant a reason."), field="note")
    now = utcnow()
    application.status, application.decided_at, application.decided_by_id = "rejected", now, by.id
    application.decision_note = reason.strip()
    member = application.member
    member.status, member.status_changed_at = "deactivated", now
    delete_member_sessions(member.id)
    audit.record("application.rejected", application, actor=by, member=member.email, reason=reason.strip())
    queue_mail(member.email, _l("Your application was not accepted"), "members/rejected", member=member,
               reason=reason.strip())


def request_information(application: Application, by: Member, question: str) -> None:
    _decidable(application)
    if not question.strip():
        raise MembershipError(_("Write the question for the applicant."), field="note")
    now = utcnow()
    application.status, application.info_question, application.info_answer = "info_requested", question.strip(), ""
    application.info_requested_at = now
    audit.record("application.info_requested", application, actor=by, question=question.strip())
    token = make_link_token("info-request", {"a": application.id, "t": now.isoformat()})
    queue_mail(application.member.email, _l("The moderators need more information"), "members/info_request",
               application=application, question=question.strip(),
               link=url_for("members.answer_information", token=token, _external=True))


def application_for_info_token(token: str) -> Application:
    payload = read_link_token("info-request", token, current_app.config["INFO_REQUEST_MAX_AGE"])
    application = db.session.get(Application, payload.get("a"))
    if application is None or application.info_requested_at is None \
            or application.info_requested_at.isoformat() != payload.get("t"):
        raise MembershipError(_("This link is no longer valid."))
    if application.status != "info_requested":
        raise MembershipError(_("This question has already been answered."))
    return application


def answer_information(token: str, answer: str) -> Application:
    application = application_for_info_token(token)
    if not answer.strip():
        raise MembershipError(_("Write your answer."), field="answer")
    hold(application)  # the answer sent twice at once is recorded once
    application = application_for_info_token(token)
    application.info_answer, application.status = answer.strip(), "submitted"
    audit.record("application.info_answered", application, actor=application.member)
    for moderator in moderators():
        queue_mail(moderator.email, _l("An applicant answered your question"), "members/info_answered",
                   moderator=moderator, application=application,
                   link=url_for("members.application_detail", application_id=application.id, _external=True))
    return application


@functools.cache
def _vetting_queue_statement():
    """One statement object for the process (SQLAlchemy remembers its cache key on it: keying the loader options
    anew on every request cost more than running the statement)."""
    return (select(Application).where(Application.status.in_(("submitted", "info_requested")))
            .order_by(Application.submitted_at, Application.id)
            # The queue shows each one's vouches (one statement) and the applicant's name and authority: not the
            # focal points who vouched, the applicant's roles, nor the authority's designations.
            .options(selectinload(Application.vouches).lazyload(Vouch.focal_point),
                     defaultload(Application.member).lazyload(Member.roles),
                     defaultload(Application.member).defaultload(Member.authority).lazyload(Authority.designation_rows)))


def vetting_queue() -> list[Application]:
    """Applications waiting for a decision, oldest first."""
    return list(db.session.scalars(_vetting_queue_statement()))


@dataclass(frozen=True, slots=True)
class WaitingApplication:
    """An application as the vetting queue's page shows it: its columns, the applicant's, and its signals."""

    id: int
    status: str
    submitted_at: datetime | None
    created_at: datetime
    referee_email: str | None
    referee_id: int | None
    referee_decision: str | None
    name: str
    email: str
    state: str | None
    authority_name: str  # the authority's name, or what the applicant wrote when theirs is not listed
    domain_matches: bool
    vouched: int  # vouches given by focal points
    declined: int

    def waiting_hours(self, now: datetime) -> float:
        return (now - (self.submitted_at or self.created_at)).total_seconds() / 3600


@functools.cache
def _vetting_page_statement():
    """The queue's page in one statement of plain rows (the vouches counted in it, not loaded): one statement
    object for the process."""
    def vouches(decision: str):
        return (select(func.count(Vouch.id)).where(Vouch.application_id == Application.id, Vouch.decision == decision)
                .scalar_subquery())

    return (select(Application.id, Application.status, Application.submitted_at, Application.created_at,
                   Application.referee_email, Application.referee_id, Application.referee_decision,
                   Member.name, Member.email, Member.state, Member.authority_other, Authority.name,
                   Authority.email_domains, vouches("vouched"), vouches("declined"))
            .join(Member, Member.id == Application.member_id)
            .outerjoin(Authority, Authority.id == Member.authority_id)
            .where(Application.status.in_(("submitted", "info_requested")))
            .order_by(Application.submitted_at, Application.id))


def vetting_queue_page() -> list[WaitingApplication]:
    """What the vetting queue's page shows of each application waiting for a decision (as `vetting_queue`, oldest
    first)."""
    return [WaitingApplication(id, status, submitted, created, referee_email, referee_id, referee_decision, name,
                               email, state, authority_name if authority_name is not None else authority_other,
                               authority_name is not None and matches_domain(domains, email), vouched, declined)
            for (id, status, submitted, created, referee_email, referee_id, referee_decision, name, email, state,
                 authority_other, authority_name, domains, vouched, declined)
            in db.session.execute(_vetting_page_statement())]


def remind_moderators() -> int:
    """Mail the moderators about applications waiting longer than the reminder threshold (once a day each)."""
    now = utcnow()
    threshold = now - timedelta(hours=current_app.config["VETTING_REMINDER_HOURS"])
    waiting = [
        a for a in vetting_queue()
        if a.status == "submitted" and a.submitted_at and a.submitted_at < threshold
        and (a.reminded_at is None or a.reminded_at < now - timedelta(hours=24))
    ]
    if not waiting:
        return 0
    for moderator in moderators():
        queue_mail(moderator.email, _l("%(n)d applications are waiting", n=len(waiting)), "members/vetting_reminder",
                   moderator=moderator, applications=waiting, now=now,
                   link=url_for("members.vetting_queue", _external=True))
    for application in waiting:
        application.reminded_at = now
    audit.record("vetting.reminder_sent", None, actor=None, applications=[a.id for a in waiting])
    return len(waiting)


# ---------------------------------------------------------------- sign-in

def _email_digest(email: str) -> str:
    """Throttling keys name an e-mail address by its digest, not in clear (Redis holds them)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def _account_key(email: str, device_ok: bool) -> str:
    return f"signin:{'device' if device_ok else 'account'}:{_email_digest(email)}"


def authenticate(email: str, password: str, address: str, trusted_device: bool = False) -> Member:
    """Check e-mail and password under throttling. Unknown and known accounts take the same time
    and get the same answer. A client that signed in to this account before (device cookie) has
    its own counter, so an attacker cannot lock the owner out.

    Reserve, then verify: an attempt takes its place in the address and account counters before the password
    is checked, in one atomic step each, so a burst of simultaneous guesses cannot all pass a check made
    before any of them is counted. A wrong password keeps its places (it is the failure counted); a right one
    gives the address place back and clears the account counter."""
    config = current_app.config
    rate = counter()
    account_key = _account_key(email, trusted_device)
    address_key = f"signin:address:{address}"
    address_slot = rate.reserve(address_key, config["LOGIN_ADDRESS_WINDOW"], config["LOGIN_ADDRESS_LIMIT"])
    account_slot = address_slot and rate.reserve(account_key, config["LOGIN_ACCOUNT_WINDOW"],
                                                 config["LOGIN_ACCOUNT_LIMIT"])
    if not account_slot:
        if address_slot:
            rate.release(address_key, address_slot)
        member = find_member(email)
        audit.record("sign_in.throttled", member, actor=member, email=normalise_email(email)[:254])
        raise Throttled(_("Too many attempts. Wait 15 minutes and try again, or reset your password."))
    member = find_member(email)
    if member is None:
        passwords.burn_time(password)
        ok = False
    else:
        ok = passwords.verify_password(member.password_hash, password)
    if not ok:
        audit.record("sign_in.failed", member, actor=member, email=normalise_email(email)[:254])
        raise MembershipError(_("The e-mail address or the password is not right."))
    rate.release(address_key, address_slot)
    rate.reset(account_key)
    if passwords.needs_rehash(member.password_hash):
        member.password_hash = passwords.hash_password(password)
    return member


def reconfirm_password(member: Member, password: str, trusted_device: bool = False, *,
                       refused: str = "reauth.failed", field: str = "password", wrong: str = "") -> None:
    """A signed-in member types their password again (re-authentication, or the current password on the password
    page). Throttled on the sign-in account counter, reserve then verify as authenticate does: whoever holds a
    stolen session cannot guess the password at Argon2's speed. `refused` names the audit entry of a wrong one,
    `wrong` the message (at `field`)."""
    config = current_app.config
    rate = counter()
    account_key = _account_key(member.email, trusted_device)
    if not rate.reserve(account_key, config["LOGIN_ACCOUNT_WINDOW"], config["LOGIN_ACCOUNT_LIMIT"]):
        audit.record("reauth.throttled", member, actor=member)
        raise Throttled(_("Too many attempts. Wait 15 minutes and try again."))
    if not passwords.verify_password(member.password_hash, password):
        audit.record(refused, member, actor=member)
        raise MembershipError(wrong or _("Your password is not right."), field=field)
    rate.reset(account_key)


def check_can_sign_in(member: Member) -> None:
    """After a correct password: is this account allowed in? Suspensions past their end date lift here."""
    now = utcnow()
    if member.status == "suspended" and member.suspended_until and member.suspended_until <= now:
        member.status, member.suspended_reason, member.suspended_until = "active", "", None
        member.status_changed_at = now
        audit.record("member.suspension_ended", member, actor=None)
    if member.status == "suspended":
        if member.suspended_until:  # the date in the reader's language ("5 décembre 2026"), not "05 December 2026"
            raise MembershipError(_("Your account is suspended until %(until)s. Reason: %(reason)s",
                                    until=format_date(member.suspended_until, "long"),
                                    reason=member.suspended_reason))
        raise MembershipError(_("Your account is suspended until further notice. Reason: %(reason)s",
                                reason=member.suspended_reason))
    if member.status == "lapsed":
        raise MembershipError(_("Your membership has lapsed because it was not re-confirmed this year. "
                                "Ask your authority's focal point or a moderator to re-confirm you."))
    if member.status == "deactivated":
        raise MembershipError(_("This account is closed."))


def _second_factor_key(member: Member, trusted_device: bool) -> str:
    return f"mfa:{'device' if trusted_device else 'account'}:{member.id}"


def throttle_second_factor(member: Member, trusted_device: bool = False) -> str:
    """Reserve one attempt at the second factor before the code is checked (atomic, so a burst of codes cannot
    pass the limit); returns the reservation, which `_second_factor_passed` gives back when the code is right.
    The member's own device (the device cookie of an earlier sign-in) counts apart from every other client,
    so a stranger who knows the password and sends wrong codes cannot lock the owner out."""
    config = current_app.config
    slot = counter().reserve(_second_factor_key(member, trusted_device), config["LOGIN_ACCOUNT_WINDOW"],
                             config["LOGIN_ACCOUNT_LIMIT"])
    if slot is None:
        audit.record("sign_in.mfa_throttled", member, actor=member)
        raise Throttled(_("Too many wrong codes. Wait 15 minutes and sign in again."))
    return slot


def _second_factor_passed(member: Member, trusted_device: bool, slot: str) -> None:
    counter().release(_second_factor_key(member, trusted_device), slot)


def _second_factor_failed(member: Member) -> None:
    """The place reserved by throttle_second_factor stays taken: it is this failure, counted."""
    audit.record("sign_in.mfa_failed", member, actor=member)
    raise MembershipError(_("That code is not right, or it was already used. Wait for a new code and try again."),
                          field="code")


def member_totp_secret(member: Member) -> str:
    if member.totp_secret is None:
        raise MembershipError(_("No second factor is set up for this account."))
    return unseal(member.totp_secret, f"totp:{member.id}").decode()


def enrol_totp(member: Member, secret: str, code: str, trusted_device: bool = False) -> list[str]:
    """Confirm an authenticator app with a first code; returns the recovery codes to show once.
    The secret is set by compare-and-set: of two enrolments at the same moment, one wins."""
    slot = throttle_second_factor(member, trusted_device)
    step = totp.match_step(secret, code, None)
    if step is None:
        _second_factor_failed(member)
    _second_factor_passed(member, trusted_device, slot)
    values = {"totp_secret": seal(secret.encode(), f"totp:{member.id}"), "totp_last_step": step,
              "mfa_enrolled_at": utcnow()}
    claimed = db.session.execute(
        update(Member).where(Member.id == member.id, Member.totp_secret.is_(None)).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.expire(member, list(values))
        raise MembershipError(_("This account already has an authenticator app. Sign in again and use it."))
    for name, value in values.items():
        set_committed_value(member, name, value)
    codes = _replace_recovery_codes(member)
    audit.record("mfa.enrolled", member, actor=member)
    return codes


def _replace_recovery_codes(member: Member) -> list[str]:
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.member_id == member.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(RecoveryCode(member_id=member.id, code_hash=totp.recovery_code_hash(c)) for c in codes)
    db.session.flush()
    return codes


def regenerate_recovery_codes(member: Member) -> list[str]:
    codes = _replace_recovery_codes(member)
    audit.record("mfa.recovery_codes_replaced", member, actor=member)
    return codes


def recovery_codes_left(member: Member) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None))
    ) or 0


def _claim_step(member: Member, step: int) -> bool:
    """Compare-and-set in SQL: the time step is taken only if no later or equal step was taken before, whoever
    took it (two sessions sending one code at the same moment: one row updated, one sign-in)."""
    claimed = db.session.execute(
        update(Member).where(Member.id == member.id,
                             or_(Member.totp_last_step.is_(None), Member.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)
    ).rowcount == 1
    if claimed:
        set_committed_value(member, "totp_last_step", step)  # known, and never written again by the ORM
    else:
        db.session.expire(member, ["totp_last_step"])
    return claimed


def _claim_recovery_code(found: RecoveryCode) -> bool:
    """Compare-and-set in SQL: a recovery code is used once, by the one request whose update finds it unused."""
    now = utcnow()
    claimed = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.id == found.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if claimed:
        set_committed_value(found, "used_at", now)
    else:
        db.session.expire(found, ["used_at"])
    return claimed


def verify_second_factor(member: Member, code: str, trusted_device: bool = False) -> str:
    """Accept a current TOTP code (each time step once only) or an unused recovery code.
    Returns "totp" or "recovery". The attempt is counted before the code is checked; a code is taken by
    compare-and-set, so one code never passes twice, not even from two sessions at the same moment."""
    slot = throttle_second_factor(member, trusted_device)
    cleaned = "".join(code.split())
    if cleaned.isdigit() and len(cleaned) == 6:
        step = totp.match_step(member_totp_secret(member), cleaned, member.totp_last_step)
        if step is not None and _claim_step(member, step):
            _second_factor_passed(member, trusted_device, slot)
            return "totp"
    elif len(totp.normalise_recovery_code(cleaned)) == 12:
        found = db.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None),
                RecoveryCode.code_hash == totp.recovery_code_hash(cleaned),
            )
        )
        if found is not None and _claim_recovery_code(found):
            _second_factor_passed(member, trusted_device, slot)
            audit.record("mfa.recovery_code_used", member, actor=member, left=recovery_codes_left(member))
            return "recovery"
    _second_factor_failed(member)
    return ""  # not reached


def signed_in(member: Member, method: str, trusted_device: bool = False) -> None:
    """The second factor passed: earlier wrong codes of this client's counter are forgotten."""
    counter().reset(_second_factor_key(member, trusted_device))
    audit.record("sign_in.succeeded", member, actor=member, method=method)


# ---------------------------------------------------------------- passwords

def change_password(member: Member, current: str, new: str, code: str, keep_session_id: str | None,
                    trusted_device: bool = False) -> None:
    reconfirm_password(member, current, trusted_device, refused="password.change_refused", field="current_password",
                       wrong=_("Your current password is not right."))
    problems = passwords.password_problems(new, member.email)
    if problems:
        raise MembershipError(problems[0], field="new_password")
    verify_second_factor(member, code, trusted_device=trusted_device)
    from network.messaging.lifecycle import rewrap_for_new_password

    rewrap_for_new_password(member, current, new)  # messaging keys stay readable under the new password
    member.password_hash = passwords.hash_password(new)
    member.password_changed_at = utcnow()
    ended = delete_member_sessions(member.id, except_id=keep_session_id)
    audit.record("password.changed", member, actor=member, other_sessions_ended=ended)
    queue_mail(member.email, _l("Your password was changed"), "members/password_changed", member=member)


def request_password_reset(email: str, address: str = "") -> None:
    """Always looks the same to the caller; only an existing, usable account gets a link. Known and unknown
    addresses take the same path (look-up, link, audit entry) apart from queueing the mail, and the view sends
    mail only after its response. At most PASSWORD_RESET_RECIPIENT_LIMIT requests per address asked for and
    PASSWORD_RESET_ADDRESS_LIMIT per client address are served; a throttled request looks like the others."""
    config = current_app.config
    rate, window = counter(), config["PASSWORD_RESET_WINDOW"]
    recipient = normalise_email(email)
    allowed = rate.reserve(f"reset:address:{address}", window, config["PASSWORD_RESET_ADDRESS_LIMIT"]) is not None \
        and rate.reserve(f"reset:recipient:{_email_digest(recipient)}", window,
                         config["PASSWORD_RESET_RECIPIENT_LIMIT"]) is not None
    member = find_member(recipient)
    usable = member is not None and member.status != "deactivated"
    token = make_link_token("password-reset", {"m": member.id if member else 0,
                                               "h": member.password_hash[-16:] if member else ""})
    link = url_for("members.reset_password", token=token, _external=True)
    if usable and allowed:
        queue_mail(member.email, _l("Reset your password"), "members/password_reset", member=member, link=link,
                   minutes=config["PASSWORD_RESET_MAX_AGE"] // 60)
    outcome = "throttled" if not allowed else "mailed" if usable else "no_account"
    audit.record("password.reset_requested", member if usable else None, actor=member if usable else None,
                 email=recipient[:254], outcome=outcome)


def member_for_reset_token(token: str) -> Member:
    payload = read_link_token("password-reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    member = db.session.get(Member, payload.get("m"))
    if member is None or member.password_hash[-16:] != payload.get("h"):
        raise MembershipError(_("This link was already used or is no longer valid. Ask for a new one."))
    return member


def _claim_password_change(member: Member, new_hash: str) -> None:
    """Compare-and-set in SQL: a reset link is worth one new password. The link names the hash it was made for; of
    two requests sending it at the same moment, the one whose update still finds that hash sets the password, the
    other is refused as a used link."""
    old_hash, now = member.password_hash, utcnow()
    claimed = db.session.execute(
        update(Member).where(Member.id == member.id, Member.password_hash == old_hash)
        .values(password_hash=new_hash, password_changed_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not claimed:
        db.session.expire(member, ["password_hash", "password_changed_at"])
        raise MembershipError(_("This link was already used or is no longer valid. Ask for a new one."))
    set_committed_value(member, "password_hash", new_hash)
    set_committed_value(member, "password_changed_at", now)


def reset_password(token: str, new: str) -> Member:
    """Set a new password from a mailed link. The second factor stays: the next sign-in still asks for it."""
    member = member_for_reset_token(token)
    problems = passwords.password_problems(new, member.email)
    if problems:
        raise MembershipError(problems[0], field="password")
    from network.messaging.lifecycle import retire_on_reset

    _claim_password_change(member, passwords.hash_password(new))
    retire_on_reset(member)  # the page warned: old messages now need the messaging recovery key
    delete_member_sessions(member.id)
    audit.record("password.reset", member, actor=member)
    queue_mail(member.email, _l("Your password was changed"), "members/password_changed", member=member)
    return member


# ---------------------------------------------------------------- account states and roles

def _left_authority(member: Member) -> None:
    """The member no longer reads their authority's mailbox: its other holders, or its focal points when no holder
    remains, are told (messaging keeps the rule; imported here to keep members free of messaging at import time)."""
    from network.messaging.mailboxes import member_left

    member_left(member)


@dataclass(frozen=True)
class Operator:
    """Someone at the server's command line (`flask --app app members reinstate`): audited as actor "cli"."""

    id: None = None
    email: str = "cli"


Actor = Member | Operator


def _may_act_on(by: Actor, member: Member) -> None:
    """The role limit (members/access.can_act_on_member), checked again here so every caller keeps it."""
    from network.members.access import can_act_on_member

    if isinstance(by, Member) and not can_act_on_member(by, member):
        raise MembershipError(_("Only administrators act on moderators and administrators."))


def _hold_administrators() -> None:
    """Serialise the changes that could leave the platform without an active administrator, so that two of them
    at once (two administrators suspending each other) cannot each count the other as the one who remains.
    PostgreSQL: the administrators' rows are locked, in id order so two holders never deadlock. SQLite has no row
    locks: a write takes its single database write lock, held until the commit, before anything is counted."""
    holders = select(RoleGrant.member_id).where(RoleGrant.role == "admin")
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Member.id).where(Member.id.in_(holders)).order_by(Member.id).with_for_update())
    else:
        db.session.execute(update(Member).where(Member.id.in_(holders)).values(status=Member.status)
                           .execution_options(synchronize_session=False))


def _keep_an_administrator(member: Member) -> None:
    """Refuse a change that takes `member` out of the active administrators when no other active one remains
    (counted after _hold_administrators, so the count is the committed truth)."""
    if not member.has_role("admin"):
        return
    _hold_administrators()
    others = db.session.scalar(select(func.count()).select_from(Member).where(
        Member.id != member.id, Member.status == "active",
        Member.id.in_(select(RoleGrant.member_id).where(RoleGrant.role == "admin"))))
    if not others:
        raise MembershipError(_("The platform needs at least one active administrator: give the role to another "
                                "member first."))


def suspend(member: Member, by: Member, reason: str, until: datetime | None) -> None:
    if member.status != "active":
        raise MembershipError(_("Only active members can be suspended."))
    if member.id == by.id:
        raise MembershipError(_("You cannot suspend yourself."))
    _may_act_on(by, member)
    if not reason.strip():
        raise MembershipError(_("Give a reason for the suspension."), field="reason")
    if until is not None and until <= utcnow():
        raise MembershipError(_("The end date must be in the future."), field="until")
    _keep_an_administrator(member)
    member.status, member.suspended_reason, member.suspended_until = "suspended", reason.strip(), until
    member.status_changed_at = utcnow()
    ended = delete_member_sessions(member.id)
    _left_authority(member)
    audit.record("member.suspended", member, actor=by, reason=reason.strip(),
                 until=until.isoformat() if until else None, sessions_ended=ended)
    queue_mail(member.email, _l("Your account was suspended"), "members/suspended", member=member)


def reinstate(member: Member, by: Actor) -> None:
    """A moderator reinstates a member; an administrator anyone; an operator (CLI, by=Operator()) anyone, so a
    platform whose administrators were all suspended can be recovered."""
    _may_act_on(by, member)
    if member.status not in ("suspended", "lapsed"):
        raise MembershipError(_("Only suspended or lapsed members can be reinstated."))
    previous = member.status
    now = utcnow()
    member.status, member.suspended_reason, member.suspended_until, member.status_changed_at = "active", "", None, now
    if previous == "lapsed" or not member.confirmed_until or member.confirmed_until < now:
        member.confirmed_until = now + timedelta(days=current_app.config["MEMBERSHIP_VALIDITY_DAYS"])
    audit.record("member.reinstated", member, actor=by, previous=previous)
    queue_mail(member.email, _l("Your account is active again"), "members/reinstated", member=member,
               link=url_for("members.sign_in", _external=True))


def deactivate(member: Member, by: Member, reason: str) -> None:
    if member.status == "deactivated":
        raise MembershipError(_("This account is already closed."))
    if member.id == by.id:
        raise MembershipError(_("You cannot close your own account here."))
    _may_act_on(by, member)
    if not reason.strip():
        raise MembershipError(_("Give a reason."), field="reason")
    _keep_an_administrator(member)
    member.status, member.status_changed_at = "deactivated", utcnow()
    ended = delete_member_sessions(member.id)
    _left_authority(member)
    audit.record("member.deactivated", member, actor=by, reason=reason.strip(), sessions_ended=ended)


def can_reconfirm(actor: Member, member: Member) -> bool:
    return actor.id != member.id and (
        actor.has_role("moderator") or (member.authority_id is not None and actor.has_role("focal_point", member.authority_id))
    )


def reconfirm(member: Member, by: Member) -> None:
    """A focal point of the member's authority or a moderator confirms the member for another year."""
    if not can_reconfirm(by, member):
        raise MembershipError(_("Only a focal point of the member's authority or a moderator can re-confirm."))
    if member.status not in ("active", "lapsed"):
        raise MembershipError(_("Only active or lapsed members can be re-confirmed."))
    now = utcnow()
    member.confirmed_until = now + timedelta(days=current_app.config["MEMBERSHIP_VALIDITY_DAYS"])
    member.revalidation_notice_at = None
    if member.status == "lapsed":
        member.status, member.status_changed_at = "active", now
    audit.record("member.reconfirmed", member, actor=by, until=member.confirmed_until.date().isoformat())


def revalidate() -> dict[str, int]:
    """Daily: remind members (and their focal points) whose year ends within the notice period;
    lapse those whose year has ended without re-confirmation."""
    now = utcnow()
    notice = now + timedelta(days=current_app.config["REVALIDATION_NOTICE_DAYS"])
    active = list(db.session.scalars(select(Member).where(Member.status == "active",
                                                          Member.confirmed_until.is_not(None))))
    reminded = lapsed = 0
    for member in active:
        if member.confirmed_until <= now:
            member.status, member.status_changed_at = "lapsed", now
            delete_member_sessions(member.id)
            _left_authority(member)
            audit.record("member.lapsed", member, actor=None, confirmed_until=member.confirmed_until.isoformat())
            queue_mail(member.email, _l("Your membership has lapsed"), "members/lapsed", member=member)
            lapsed += 1
        elif member.confirmed_until <= notice and member.revalidation_notice_at is None:
            member.revalidation_notice_at = now
            recipients = [member] + focal_points_of(member.authority_id)
            if not focal_points_of(member.authority_id):
                recipients += moderators()
            for recipient in {r.id: r for r in recipients}.values():
                queue_mail(recipient.email, _l("Membership to re-confirm"), "members/revalidation_notice",
                           recipient=recipient, member=member,
                           link=url_for("members.reconfirmations", _external=True))
            audit.record("member.revalidation_notice", member, actor=None)
            reminded += 1
    return {"reminded": reminded, "lapsed": lapsed}


def grant_role(member: Member, role: str, by: Member, authority: Authority | None = None) -> RoleGrant:
    from network.members.access import can_manage_roles

    if not can_manage_roles(by):
        raise MembershipError(_("Only administrators give roles."))
    if role not in ROLES:
        raise MembershipError(_("Unknown role."), field="role")
    if role == "focal_point" and authority is None:
        raise MembershipError(_("A focal point is the focal point of one authority: choose it."), field="authority")
    if role != "focal_point":
        authority = None
    if member.status != "active":
        raise MembershipError(_("Roles can be given to active members only."))
    if member.has_role(role, authority.id if authority else None):
        raise MembershipError(_("The member already has this role."))
    grant = RoleGrant(role=role, authority_id=authority.id if authority else None, granted_by_id=by.id)
    member.roles.append(grant)
    db.session.flush()
    audit.record("role.granted", member, actor=by, role=role, authority=authority.key if authority else None)
    return grant


def withdraw_role(grant: RoleGrant, by: Member) -> None:
    member = grant.member
    if grant.role == "admin" and grant.member_id == by.id:
        raise MembershipError(_("You cannot withdraw your own administrator role."))
    _may_act_on(by, member)
    if grant.role == "admin" and member.status == "active":
        _keep_an_administrator(member)
    audit.record("role.withdrawn", member, actor=by, role=grant.role,
                 authority=grant.authority.key if grant.authority else None)
    member.roles.remove(grant)
    db.session.flush()


def create_member(email: str, name: str, password: str, state: str, practitioner_type: str,
                  authority: Authority | None = None, roles: tuple[str, ...] = ("member",),
                  by: Member | None = None) -> Member:
    """Create an active member directly (CLI, demo data): vetting happens outside the platform."""
    if find_member(email) is not None:
        raise MembershipError(_("An account with this e-mail address already exists."))
    problems = passwords.password_problems(password, email)
    if problems:
        raise MembershipError(problems[0])
    now = utcnow()
    member = Member(
        email=normalise_email(email), name=name, state=state, authority_id=authority.id if authority else None,
        practitioner_type=practitioner_type, languages=["en"], password_hash=passwords.hash_password(password),
        status="active", approved_at=now, status_changed_at=now,
        confirmed_until=now + timedelta(days=current_app.config["MEMBERSHIP_VALIDITY_DAYS"]),
    )
    db.session.add(member)
    db.session.flush()
    for role in roles:
        member.roles.append(RoleGrant(role=role, authority_id=authority.id if role == "focal_point" and authority else None,
                                      granted_by_id=by.id if by else None))
    db.session.flush()
    audit.record("member.created", member, actor=by, roles=list(roles))
    return member
