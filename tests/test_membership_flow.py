"""Membership end to end over HTTP: applying, vetting, the second factor, lockouts, sessions,
suspension, yearly lapse, the audit chain and password reset. Mail goes through the real SMTP server."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, text

from network.core.crypto import token_digest
from network.core.db import db
from network.members import totp
from network.members.models import Application, Member
from tests.conftest import TEST_PASSWORD, current_code, submit

pytestmark = pytest.mark.persistence

APPLICANT_EMAIL = "ada.lovelace@justiz.example.at"
APPLICANT_PASSWORD = "a long and unusual passphrase"
NEW_PASSWORD = "another quite different passphrase"
SECRET_RE = re.compile(r'<code class="secret" id="secret">([A-Z2-7]+)</code>')
RECOVERY_RE = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")


# ---------------------------------------------------------------- helpers

def path(link: str) -> str:
    """The part of a mailed link the test client follows."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def html(response) -> str:
    return response.get_data(as_text=True)


def application_data(authority, **changes) -> dict:
    data = {
        "name": "Ada Lovelace", "email": APPLICANT_EMAIL, "password": APPLICANT_PASSWORD, "state": "AUT",
        "authority": str(authority.id), "authority_other": "", "position": "Public prosecutor",
        "practitioner_type": "prosecutor", "languages": ["en", "de"],
        "reason": "I handle requests for mutual legal assistance with West Africa.", "referee_email": "",
    }
    data.update(changes)
    return data


def member_of(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == email))


def application_of(email: str) -> Application:
    return db.session.scalar(select(Application).join(Member, Member.id == Application.member_id)
                             .where(Member.email == email))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def apply_and_verify(app, mailbox, authority, **changes) -> Application:
    """An anonymous visitor applies and follows the verification link: the application is submitted."""
    client = app.test_client()
    data = application_data(authority, **changes)
    response = submit(client, "/apply", data)
    assert response.status_code == 302, html(response)[:2000]
    assert response.headers["Location"].endswith("/apply/sent")
    response = client.get(path(mailbox.link(data["email"], "/apply/verify/")))
    assert response.status_code == 200
    application = application_of(data["email"])
    assert application.status == "submitted"
    return application


def post(client, url: str, data: dict | None = None, page: str = "/account/security"):
    """POST a form of a signed-in member, with the CSRF token from a page the member can see."""
    return submit(client, url, data, page=page)


def decide(client, application_id: int, decision: str, note: str = ""):
    return submit(client, f"/vetting/{application_id}/decide", {"decision": decision, "note": note},
                  page=f"/vetting/{application_id}")


def sign_out(client) -> None:
    response = submit(client, "/sign-out", page="/")
    assert response.status_code == 302


def enter_password(client, email: str, password: str):
    return submit(client, "/sign-in", {"email": email, "password": password})


def enter_code(client, code: str):
    return submit(client, "/sign-in/verify", {"code": code})


def signed_in(client) -> bool:
    """A member-only page answers (200) or sends the client to sign in (302)."""
    response = client.get("/account/security")
    if response.status_code == 302:
        assert urlsplit(response.headers["Location"]).path == "/sign-in"
        return False
    assert response.status_code == 200
    return True


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def client_with_cookie(app, value: str):
    """Somebody else's browser, holding a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def wrong_code(secret: str) -> str:
    step = totp.current_step()
    valid = {totp.code_at(secret, s) for s in (step - 1, step, step + 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def run_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


# ---------------------------------------------------------------- 1. the whole path

def test_applicant_is_vetted_enrols_and_signs_in_with_totp_and_recovery_code(
        app, client, mailbox, clock, auth, authority, focal_point, member, moderator):
    referee = member
    application = apply_and_verify(app, mailbox, authority, referee_email=referee.email)
    assert mailbox.last(focal_point.email)["Subject"] == "A colleague asks to join the network"
    assert mailbox.last(referee.email)["Subject"] == "You were named as referee"

    focal_client = auth.client_for(focal_point)
    assert "Ada Lovelace" in html(focal_client.get("/vouching"))
    response = post(focal_client, f"/vouching/{application.id}", {"decision": "vouched", "note": "Known to us."},
                    page="/vouching")
    assert response.status_code == 302

    referee_client = auth.client_for(referee)
    response = post(referee_client, f"/referee-requests/{application.id}", {"decision": "confirmed"},
                    page="/referee-requests")
    assert response.status_code == 302

    moderator_client = auth.client_for(moderator)
    queue = html(moderator_client.get("/vetting"))
    assert "Ada Lovelace" in queue
    for signal in ("domain", "vouched", "referee"):
        assert f'<span class="signal-ok">{signal}</span>' in queue
    detail = html(moderator_client.get(f"/vetting/{application.id}"))
    assert "Known to us." in detail and f"The referee {referee.email} confirmed." in detail
    response = decide(moderator_client, application.id, "approve")
    assert response.status_code == 302
    assert mailbox.last(APPLICANT_EMAIL)["Subject"] == "Your application was approved"
    assert member_of(APPLICANT_EMAIL).status == "active"

    # First sign-in: enrol an authenticator app, receive ten recovery codes.
    response = enter_password(client, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    assert response.headers["Location"].endswith("/sign-in/enrol")
    page = client.get("/sign-in/enrol")
    secret = SECRET_RE.search(html(page)).group(1)
    qr = client.get("/sign-in/enrol/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    clock.advance(seconds=30)
    response = submit(client, "/sign-in/enrol", {"code": totp.code_at(secret, totp.current_step())})
    assert response.status_code == 200
    codes = RECOVERY_RE.findall(html(response))
    assert len(codes) == 10 and len(set(codes)) == 10
    home = client.get("/")
    assert home.status_code == 200 and "Ada Lovelace" in html(home)
    sign_out(client)
    assert not signed_in(client)

    # Again with a code from the app.
    assert enter_password(client, APPLICANT_EMAIL, APPLICANT_PASSWORD).headers["Location"].endswith("/sign-in/verify")
    assert enter_code(client, current_code(secret, clock)).status_code == 302
    assert signed_in(client)
    sign_out(client)

    # With a recovery code: once only.
    enter_password(client, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    assert enter_code(client, codes[0]).status_code == 302
    assert "9 are left" in html(client.get("/"))
    sign_out(client)
    enter_password(client, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    response = enter_code(client, codes[0])
    assert response.status_code == 400 and "already used" in html(response)
    assert not signed_in(client)


# ---------------------------------------------------------------- 2. rejection and more information

def test_rejection_without_reason_is_refused_and_changes_nothing(app, mailbox, auth, authority, moderator):
    application = apply_and_verify(app, mailbox, authority)
    mailbox.clear()
    moderator_client = auth.client_for(moderator)
    response = decide(moderator_client, application.id, "reject", "   ")
    assert response.status_code == 400
    assert "Give the applicant a reason." in html(response)
    assert application_of(APPLICANT_EMAIL).status == "submitted"
    assert member_of(APPLICANT_EMAIL).status == "pending"
    assert mailbox.to(APPLICANT_EMAIL) == []


def test_rejection_mails_the_reason_and_deactivates_the_applicant(app, mailbox, auth, authority, moderator):
    application = apply_and_verify(app, mailbox, authority)
    moderator_client = auth.client_for(moderator)
    response = decide(moderator_client, application.id, "reject", "Your authority does not deal with MLA.")
    assert response.status_code == 302
    mail = mailbox.last(APPLICANT_EMAIL)
    assert mail["Subject"] == "Your application was not accepted"
    assert "Your authority does not deal with MLA." in mail.get_content()
    assert application_of(APPLICANT_EMAIL).status == "rejected"
    assert member_of(APPLICANT_EMAIL).status == "deactivated"


def test_question_to_applicant_is_answered_once_through_the_mailed_link(
        app, client, mailbox, auth, authority, moderator):
    application = apply_and_verify(app, mailbox, authority)
    moderator_client = auth.client_for(moderator)
    response = decide(moderator_client, application.id, "info", "Which unit of the ministry do you work in?")
    assert response.status_code == 302
    assert application_of(APPLICANT_EMAIL).status == "info_requested"
    mail = mailbox.last(APPLICANT_EMAIL)
    assert "Which unit of the ministry do you work in?" in mail.get_content()
    answer_path = path(mailbox.link(APPLICANT_EMAIL, "/apply/answer/"))
    mailbox.clear()

    page = client.get(answer_path)
    assert page.status_code == 200
    response = submit(client, answer_path, {"answer": "The international cooperation unit, IV/3."})
    assert response.status_code == 200
    application = application_of(APPLICANT_EMAIL)
    assert application.status == "submitted"
    assert application.info_answer == "The international cooperation unit, IV/3."
    assert mailbox.last(moderator.email)["Subject"] == "An applicant answered your question"

    again = client.get(answer_path)
    assert again.status_code == 400 and "already been answered" in html(again)


# ---------------------------------------------------------------- 3. applying: taken addresses and bad input

def test_applying_with_a_registered_address_looks_the_same_and_mails_the_owner(
        client, mailbox, authority, member):
    members, applications = count(Member), count(Application)
    response = submit(client, "/apply", application_data(authority, email=member.email.upper()))
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/sent")
    assert mailbox.last(member.email)["Subject"] == "Someone applied with your address"
    assert (count(Member), count(Application)) == (members, applications)


@pytest.mark.parametrize(("changes", "message"), [
    pytest.param({"name": ""}, "Enter your full name.", id="missing-name"),
    pytest.param({"position": "", "reason": ""}, "Enter your position.", id="missing-fields"),
    pytest.param({"email": "ada.at.justiz"}, "Enter a valid e-mail address", id="bad-email"),
    pytest.param({"password": "short pass"}, "Use at least 12 characters", id="short-password"),
    pytest.param({"password": "password1234"}, "among the most common", id="common-password"),
    pytest.param({"name": "A" * 201}, "cannot be longer than 200 characters", id="over-long-name"),
    pytest.param({"state": "NGA"}, "This authority belongs to another State.", id="authority-of-another-state"),
])
def test_application_with_bad_input_is_refused_and_creates_nothing(client, mailbox, authority, changes, message):
    members = count(Member)
    response = submit(client, "/apply", application_data(authority, **changes))
    assert response.status_code == 400
    assert message in html(response)
    assert count(Member) == members and member_of(APPLICANT_EMAIL) is None
    assert mailbox.messages == []


# ---------------------------------------------------------------- 4. throttling and single-use codes

def test_sixth_password_attempt_is_throttled_but_a_known_device_still_signs_in(app, client, auth, member):
    known_device = auth.client_for(member)
    sign_out(known_device)
    for _ in range(5):
        assert enter_password(client, member.email, "not the password at all").status_code == 401
    response = enter_password(client, member.email, TEST_PASSWORD)
    assert response.status_code == 429 and "Too many attempts" in html(response)
    auth.sign_in(known_device, member)
    assert signed_in(known_device)


def test_five_wrong_codes_throttle_the_second_factor(client, clock, member):
    enter_password(client, member.email, TEST_PASSWORD)
    for _ in range(5):
        assert enter_code(client, wrong_code(member.secret)).status_code == 400
    response = enter_code(client, current_code(member.secret, clock))
    assert response.status_code == 429 and "Too many wrong codes" in html(response)
    assert not signed_in(client)


def test_a_totp_code_cannot_be_replayed(client, clock, member):
    code = current_code(member.secret, clock)
    enter_password(client, member.email, TEST_PASSWORD)
    assert enter_code(client, code).status_code == 302
    sign_out(client)
    enter_password(client, member.email, TEST_PASSWORD)
    response = enter_code(client, code)
    assert response.status_code == 400 and "already used" in html(response)
    assert not signed_in(client)


# ---------------------------------------------------------------- 5. sessions end for good

def test_session_cookie_is_worthless_after_sign_out(app, auth, member):
    client = auth.client_for(member)
    stolen = session_cookie(client)
    assert signed_in(client_with_cookie(app, stolen))
    sign_out(client)
    assert not signed_in(client_with_cookie(app, stolen))


def test_sign_out_everywhere_else_ends_the_other_sessions(app, auth, member):
    laptop, phone = auth.client_for(member), auth.client_for(member)
    stolen = session_cookie(laptop)
    assert post(phone, "/account/sessions/revoke-others").status_code == 302
    assert not signed_in(client_with_cookie(app, stolen))
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_revoking_one_session_on_the_security_page_ends_it(app, auth, member):
    laptop, phone = auth.client_for(member), auth.client_for(member)
    stolen = session_cookie(laptop)
    session_id = token_digest(stolen)
    assert f"/account/sessions/{session_id}/revoke" in html(phone.get("/account/security"))
    assert post(phone, f"/account/sessions/{session_id}/revoke").status_code == 302
    assert not signed_in(client_with_cookie(app, stolen))
    assert signed_in(phone)


def test_password_change_ends_the_other_sessions(app, mailbox, clock, auth, member):
    laptop, phone = auth.client_for(member), auth.client_for(member)
    stolen = session_cookie(laptop)
    response = post(phone, "/account/password", {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                                 "code": current_code(member.secret, clock)},
                    page="/account/password")
    assert response.status_code == 302
    assert mailbox.last(member.email)["Subject"] == "Your password was changed"
    assert not signed_in(client_with_cookie(app, stolen))
    assert signed_in(phone)
    assert enter_password(app.test_client(), member.email, TEST_PASSWORD).status_code == 401


# ---------------------------------------------------------------- 6. suspension

def test_suspension_ends_sessions_and_shows_the_reason_until_reinstated(app, mailbox, auth, member, moderator):
    member_client = auth.client_for(member)
    moderator_client = auth.client_for(moderator)
    response = post(moderator_client, f"/members/{member.id}/suspend", {"reason": "Shared documents publicly."})
    assert response.status_code == 302
    assert mailbox.last(member.email)["Subject"] == "Your account was suspended"
    assert not signed_in(member_client)
    response = enter_password(member_client, member.email, TEST_PASSWORD)
    assert response.status_code == 401
    assert "Shared documents publicly." in html(response) and "further notice" in html(response)

    assert post(moderator_client, f"/members/{member.id}/reinstate").status_code == 302
    assert member_of(member.email).status == "active"
    auth.sign_in(member_client, member)
    assert signed_in(member_client)


def test_suspension_with_an_end_date_lifts_by_itself(app, clock, auth, member, moderator):
    moderator_client = auth.client_for(moderator)
    until = (clock.now + timedelta(days=3)).date()
    response = post(moderator_client, f"/members/{member.id}/suspend",
                    {"reason": "Cooling-off period.", "until": until.isoformat()})
    assert response.status_code == 302
    client = app.test_client()
    response = enter_password(client, member.email, TEST_PASSWORD)
    assert response.status_code == 401 and format_date(until, "long", locale="en") in html(response)

    clock.advance(days=3)
    auth.sign_in(client, member)
    assert signed_in(client)
    assert member_of(member.email).status == "active"


# ---------------------------------------------------------------- 7. the yearly re-confirmation

def test_unconfirmed_membership_lapses_after_a_year_until_a_focal_point_reconfirms(
        app, mailbox, clock, auth, member, focal_point):
    focal_point.confirmed_until = clock.now + timedelta(days=1000)  # only the member's year is ending
    db.session.commit()

    clock.advance(days=340)
    result = run_cli(app, "members", "revalidate")
    assert result.exit_code == 0, result.output
    assert "1 members reminded, 0 lapsed" in result.output
    assert mailbox.last(member.email)["Subject"] == "Membership to re-confirm"
    assert mailbox.last(focal_point.email)["Subject"] == "Membership to re-confirm"
    assert member.email in mailbox.body(focal_point.email)

    clock.advance(days=26)
    result = run_cli(app, "members", "revalidate")
    assert result.exit_code == 0, result.output
    assert "1 lapsed" in result.output
    assert member_of(member.email).status == "lapsed"
    assert mailbox.last(member.email)["Subject"] == "Your membership has lapsed"
    client = app.test_client()
    response = enter_password(client, member.email, TEST_PASSWORD)
    assert response.status_code == 401 and "has lapsed" in html(response)

    focal_client = auth.client_for(focal_point)
    assert member.name in html(focal_client.get("/reconfirmations"))
    response = post(focal_client, f"/members/{member.id}/reconfirm", page="/reconfirmations")
    assert response.status_code == 302
    assert member_of(member.email).status == "active"
    auth.sign_in(client, member)
    assert signed_in(client)


# ---------------------------------------------------------------- 8. the audit chain

@pytest.fixture
def audited_flow(app, mailbox, auth, authority, moderator):
    """An application approved through the pages: a handful of audit entries."""
    application = apply_and_verify(app, mailbox, authority)
    assert decide(auth.client_for(moderator), application.id, "approve").status_code == 302
    assert count_entries() >= 5


def count_entries() -> int:
    return db.session.scalar(text("SELECT count(*) FROM audit_entries"))


def tamper(statement: str) -> None:
    db.session.execute(text(statement))
    db.session.commit()


def test_audit_verify_passes_on_an_untouched_chain(app, audited_flow):
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"{count_entries()} entries verified" in result.output


def test_audit_verify_names_an_entry_changed_in_the_database(app, audited_flow):
    assert run_cli(app, "audit", "verify").exit_code == 0
    tamper("""UPDATE audit_entries SET details = '{"note": "nothing happened"}' WHERE id = 3""")
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "entry 3 was changed" in result.output


def test_audit_verify_reports_an_entry_deleted_from_the_middle(app, audited_flow):
    tamper("DELETE FROM audit_entries WHERE id = 3")
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "entry 3 was removed" in result.output


# ---------------------------------------------------------------- 9. password reset

def test_forgot_password_answers_the_same_for_unknown_and_known_addresses(client, mailbox, member):
    unknown = submit(client, "/password/forgot", {"email": "nobody@justiz.example.at"})
    known = submit(client, "/password/forgot", {"email": member.email})
    assert unknown.status_code == known.status_code == 200
    assert html(unknown) == html(known)
    assert mailbox.to("nobody@justiz.example.at") == []
    assert "/password/reset/" in mailbox.link(member.email, "/password/reset/")


def test_password_reset_keeps_the_second_factor_and_its_link_works_once(client, mailbox, clock, member):
    submit(client, "/password/forgot", {"email": member.email})
    reset_path = path(mailbox.link(member.email, "/password/reset/"))
    page = client.get(reset_path)
    assert page.status_code == 200 and "messaging recovery key" in html(page)
    response = submit(client, reset_path, {"password": NEW_PASSWORD})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sign-in"

    assert enter_password(client, member.email, TEST_PASSWORD).status_code == 401
    response = enter_password(client, member.email, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/verify")
    assert enter_code(client, current_code(member.secret, clock)).status_code == 302
    assert signed_in(client)

    again = client.get(reset_path)
    assert again.status_code == 400 and "already used" in html(again)
