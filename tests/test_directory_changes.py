"""Keeping the directory current: proposals by focal points, review by moderators, versions, re-confirmation,
reminders of stale entries."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import submit

ENTRY = {
    "key": "AUT-BMJ", "state": "AUT", "name": "Federal Ministry of Justice, International Criminal Law",
    "parent_body": "Federal Ministry of Justice",
    "designations": ["untoc_mla_central", "untoc_extradition"],
    "address": "Museumstrasse 7\n1070 Vienna", "phone": "+43 1 52152 0", "email": "ca@bmj.example.at",
    "email_domains": ["bmj.example.at"], "website": "https://bmj.example.at", "languages": ["de", "en"],
    "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
    "urgent_requests": "By e-mail in advance of the original.", "time_zone": "Europe/Vienna",
    "office_hours": "Mon-Fri 08:00-16:00",
    "legal_requirements": "Requests in German or English.\n\nDual criminality is required for coercive measures.",
    "national_laws": [{"title": "Extradition and Mutual Assistance Act", "url": "https://ris.example.at/arhg"}],
    "treaties": ["European Convention on Mutual Assistance in Criminal Matters (1959)"],
    "last_verified": "2025-06-01",
}
TODAY = date(2026, 3, 2)  # the frozen clock's day (tests/conftest.py BASE_TIME)


def make_authority(data: dict, **changes):
    from network.core.db import db
    from network.directory.services import create_authority

    authority = create_authority({**data, **changes}, source="import")
    db.session.commit()
    return authority


@pytest.fixture
def entry(app):
    return make_authority(ENTRY)


@pytest.fixture
def fp(member_factory, entry):
    return member_factory(roles=("focal_point",), authority=entry, email="fp@bmj.example.at", name="Franziska Punkt")


def form_data(entry: dict = ENTRY, **changes) -> dict:
    """The propose form filled in with an entry, then the changes."""
    data = {
        "name": entry["name"], "parent_body": entry.get("parent_body", ""),
        "designations": entry["designations"], "address": entry.get("address", ""),
        "phone": entry.get("phone", ""), "email": entry.get("email", ""),
        "email_domains": "\n".join(entry.get("email_domains", [])), "website": entry.get("website", ""),
        "languages": " ".join(entry.get("languages", [])), "channels": entry.get("channels", []),
        "accepts_untoc_as_legal_basis": "yes", "urgent_requests": entry.get("urgent_requests", ""),
        "time_zone": entry.get("time_zone", ""), "office_hours": entry.get("office_hours", ""),
        "legal_requirements": entry.get("legal_requirements", ""),
        "national_laws": "\n".join(f"{law['title']} | {law['url']}" for law in entry.get("national_laws", [])),
        "treaties": "\n".join(entry.get("treaties", [])),
        "note": "The unit moved to a new name after the reorganisation of 1 March.",
    }
    data.update(changes)
    return data


def propose(client, key: str = "AUT-BMJ", **changes):
    return submit(client, f"/directory/{key}/propose", form_data(**changes))


def all_changes():
    from network.core.db import db
    from network.directory.models import AuthorityChange

    db.session.expire_all()
    return list(db.session.scalars(select(AuthorityChange).order_by(AuthorityChange.id)))


def audit_actions() -> list[str]:
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


NEW_NAME = "Federal Ministry of Justice, Department for International Cooperation"


# ---------------------------------------------------------------- proposing

def test_focal_point_proposes_a_change_that_waits_for_a_moderator(auth, entry, fp, moderator, mailbox):
    client = auth.client_for(fp)
    page = client.get("/directory/AUT-BMJ/propose")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ENTRY["name"] in html and "UNTOC art. 18 (13)" in html  # designations with their legal basis

    response = propose(client, name=NEW_NAME)
    assert response.status_code == 302 and "/directory/mine" in response.headers["Location"]
    assert "waiting for a moderator" in client.get("/directory/mine").get_data(as_text=True)

    [change] = all_changes()
    assert change.status == "proposed" and change.base_version == 1 and change.proposed_by_id == fp.id
    assert change.data["name"] == NEW_NAME and change.data["key"] == "AUT-BMJ" and "last_verified" not in change.data
    assert entry.name == ENTRY["name"]  # nothing changes before approval
    assert "directory.change_proposed" in audit_actions()
    mail = mailbox.last(moderator.email)
    assert "Federal Ministry of Justice" in mail["Subject"]
    assert f"/directory/changes/{change.id}" in mail.get_content()


def test_an_invalid_time_zone_is_shown_at_its_field_and_nothing_is_saved(auth, entry, fp):
    client = auth.client_for(fp)
    response = propose(client, time_zone="Mars/Olympus_Mons")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="time_zone-error"' in html and "IANA" in html
    assert all_changes() == []


def test_forged_and_oversized_values_are_refused_without_an_error_page(auth, entry, fp):
    client = auth.client_for(fp)
    response = propose(client, name="x" * 10_000, designations=["untoc_mla_central", "not_a_designation"],
                       channels=["carrier_pigeon"], languages="de english!", website="javascript:alert(1)",
                       national_laws="| https://no-title.example", accepts_untoc_as_legal_basis="maybe")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field in ("name", "designations", "channels", "languages", "website", "national_laws"):
        assert f'id="{field}-error"' in html, field
    assert propose(client, designations=[]).status_code == 400
    assert propose(client, note="").status_code == 400
    assert all_changes() == []


def test_a_proposal_identical_to_the_entry_is_refused(auth, entry, fp):
    client = auth.client_for(fp)
    response = propose(client)
    assert response.status_code == 400
    assert "Re-confirm unchanged" in response.get_data(as_text=True)
    assert all_changes() == []


def test_only_the_authoritys_own_focal_points_may_propose(auth, entry, fp, member_factory, moderator):
    other = make_authority(ENTRY, key="NGA-CAU", state="NGA", name="Central Authority Unit",
                           email_domains=["justice.example.ng"], email="cau@justice.example.ng")
    client = auth.client_for(fp)
    assert client.get(f"/directory/{other.key}/propose").status_code == 403
    assert client.post(f"/directory/{other.key}/propose", data=form_data()).status_code in (400, 403)
    assert client.get("/directory/NOWHERE-X/propose").status_code == 404
    colleague = member_factory(authority=entry, email="colleague@bmj.example.at")
    assert auth.client_for(colleague).get("/directory/AUT-BMJ/propose").status_code == 403
    assert auth.client_for(moderator).get("/directory/AUT-BMJ/propose").status_code == 403
    assert all_changes() == []


def test_a_second_open_proposal_is_refused_and_the_first_can_be_edited_or_withdrawn(auth, entry, fp, member_factory):
    second = member_factory(roles=("focal_point",), authority=entry, email="fp2@bmj.example.at")
    first_client = auth.client_for(fp)
    assert propose(first_client, name=NEW_NAME).status_code == 302

    second_client = auth.client_for(second)
    page = second_client.get("/directory/AUT-BMJ/propose").get_data(as_text=True)
    assert 'id="proposal-blocked"' in page
    token_page = second_client.get("/directory/mine")
    response = submit(second_client, "/directory/AUT-BMJ/propose", form_data(phone="+43 1 000"),
                      page="/directory/mine")
    assert token_page.status_code == 200 and response.status_code == 400
    assert "Only one proposal at a time" in response.get_data(as_text=True)
    assert len(all_changes()) == 1

    # the proposer edits theirs: the same proposal, new content
    edit_page = first_client.get("/directory/AUT-BMJ/propose").get_data(as_text=True)
    assert NEW_NAME in edit_page and "Withdraw my proposal" in edit_page
    assert propose(first_client, name=NEW_NAME, phone="+43 1 999 999").status_code == 302
    [change] = all_changes()
    assert change.data["phone"] == "+43 1 999 999"

    # the other focal point cannot withdraw it; the proposer can
    assert submit(second_client, f"/directory/changes/{change.id}/withdraw", page="/directory/mine").status_code == 404
    assert submit(first_client, f"/directory/changes/{change.id}/withdraw", page="/directory/mine").status_code == 302
    assert all_changes()[0].status == "withdrawn"
    assert propose(second_client, phone="+43 1 000").status_code == 302
    assert [c.status for c in all_changes()] == ["withdrawn", "proposed"]


# ---------------------------------------------------------------- reviewing

def _proposed(auth, fp, **changes):
    assert propose(auth.client_for(fp), **changes).status_code == 302
    return all_changes()[-1]


def test_moderator_approves_and_the_entry_becomes_a_new_verified_version(auth, entry, fp, moderator, mailbox):
    change = _proposed(auth, fp, name=NEW_NAME, languages="de en fr")
    client = auth.client_for(moderator)
    queue = client.get("/directory/changes").get_data(as_text=True)
    assert f"/directory/changes/{change.id}" in queue and fp.name in queue

    response = submit(client, f"/directory/changes/{change.id}/approve", {"note": "Checked with the ministry."},
                      page=f"/directory/changes/{change.id}")
    assert response.status_code == 302

    from network.core.db import db
    from network.directory.services import get_version, version_count

    db.session.expire_all()
    assert entry.name == NEW_NAME and entry.languages == ["de", "en", "fr"]
    assert entry.last_verified == TODAY
    assert version_count(entry) == 2
    version = get_version(entry, 2)
    assert version.source == "proposal" and version.approved_by_id == moderator.id and version.proposed_by_id == fp.id
    assert version.note == change.note and version.data["name"] == NEW_NAME
    assert get_version(entry, 1).data["name"] == ENTRY["name"]  # the old version is kept
    assert all_changes()[0].status == "approved"
    assert "directory.change_approved" in audit_actions()
    mail = mailbox.last(fp.email)
    assert "approved" in mail["Subject"] and "version 2" in mail.get_content()
    assert "Checked with the ministry." in mail.get_content()
    # decided: it cannot be decided twice
    again = submit(client, f"/directory/changes/{change.id}/approve", page=f"/directory/changes/{change.id}")
    assert again.status_code == 400


def test_moderator_returns_a_change_with_a_reason_and_the_focal_point_proposes_again(auth, entry, fp, moderator,
                                                                                    mailbox):
    change = _proposed(auth, fp, phone="+43 1 111")
    client = auth.client_for(moderator)
    url = f"/directory/changes/{change.id}/return"
    without = submit(client, url, {"reason": "  "}, page=f"/directory/changes/{change.id}")
    assert without.status_code == 400 and "why the change is returned" in without.get_data(as_text=True)
    assert all_changes()[0].status == "proposed"

    reason = "The number is the switchboard, not the unit: give the unit's direct line."
    assert submit(client, url, {"reason": reason}, page=f"/directory/changes/{change.id}").status_code == 302
    returned = all_changes()[0]
    assert returned.status == "returned" and returned.review_note == reason and returned.reviewed_by_id == moderator.id
    assert entry.phone == ENTRY["phone"]
    assert "directory.change_returned" in audit_actions()
    assert reason in mailbox.body(fp.email)

    fp_client = auth.client_for(fp)
    mine = fp_client.get("/directory/mine").get_data(as_text=True)
    assert reason.replace("'", "&#39;") in mine and f"from={change.id}" in mine
    assert "+43 1 111" in fp_client.get(f"/directory/AUT-BMJ/propose?from={change.id}").get_data(as_text=True)
    assert propose(fp_client, phone="+43 1 52152 3333").status_code == 302
    assert [c.status for c in all_changes()] == ["returned", "proposed"]


def test_review_page_shows_the_entry_and_the_proposal_side_by_side(auth, entry, fp, moderator):
    change = _proposed(auth, fp, name=NEW_NAME, channels=["direct", "interpol"],
                       legal_requirements="Requests in German or English.\n\n<script>alert(1)</script> is escaped.")
    html = auth.client_for(moderator).get(f"/directory/changes/{change.id}").get_data(as_text=True)
    assert 'id="diff-changed"' in html
    assert 'data-field="name"' in html
    assert "<del>Criminal Law</del>" in html  # word by word: "International" stays
    assert "<ins>Department for </ins>" in html and "<ins>Cooperation</ins>" in html
    assert "<del>Diplomatic channels</del>" in html and "<ins>Through INTERPOL</ins>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    changed_table, unchanged = html.split('id="diff-changed"')[1].split('id="diff-unchanged"')
    assert 'data-field="legal_requirements"' in changed_table and 'data-field="phone"' not in changed_table
    assert 'data-field="phone"' in unchanged and "<details" in html
    assert "The unit moved to a new name" in html  # the focal point's note


def test_review_warns_when_the_entry_changed_since_the_proposal_began(auth, entry, fp, moderator):
    change = _proposed(auth, fp, name=NEW_NAME)
    from network.core.db import db
    from network.directory.services import apply_entry, record_version

    apply_entry(entry, {**ENTRY, "phone": "+43 1 22222"})  # an import after the focal point's edit
    record_version(entry, "import")
    db.session.commit()
    html = auth.client_for(moderator).get(f"/directory/changes/{change.id}").get_data(as_text=True)
    assert 'id="changed-since-base"' in html and "version 1" in html.lower()
    assert "Telephone" in html.split('id="changed-since-base"')[1].split("</div>")[0]


def test_a_moderator_who_proposed_the_change_cannot_approve_it(auth, entry, member_factory, moderator):
    both = member_factory(roles=("focal_point", "moderator"), authority=entry, email="both@bmj.example.at")
    change = _proposed(auth, both, name=NEW_NAME)
    client = auth.client_for(both)
    page = client.get(f"/directory/changes/{change.id}").get_data(as_text=True)
    assert 'id="own-proposal"' in page and "two people" in page
    refused = client.post(f"/directory/changes/{change.id}/approve",
                          data={"csrf_token": _token(client, f"/directory/changes/{change.id}")})
    assert refused.status_code == 400 and "two people" in refused.get_data(as_text=True)
    assert all_changes()[0].status == "proposed" and entry.name == ENTRY["name"]
    assert submit(auth.client_for(moderator), f"/directory/changes/{change.id}/approve",
                  page=f"/directory/changes/{change.id}").status_code == 302
    assert all_changes()[0].status == "approved"


def _token(client, page: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get(page).get_data(as_text=True))


def test_unknown_or_foreign_change_ids_are_not_found(auth, entry, fp, moderator, member_factory):
    other = make_authority(ENTRY, key="NGA-CAU", state="NGA", name="Central Authority Unit",
                           email_domains=["justice.example.ng"], email="cau@justice.example.ng")
    other_fp = member_factory(roles=("focal_point",), authority=other, email="fp@justice.example.ng")
    change = _proposed(auth, fp, name=NEW_NAME)
    client = auth.client_for(other_fp)
    assert submit(client, f"/directory/changes/{change.id}/withdraw", page="/directory/mine").status_code == 404
    assert client.get(f"/directory/changes/{change.id}").status_code == 403
    mod = auth.client_for(moderator)
    assert mod.get("/directory/changes/999999").status_code == 404
    assert mod.get("/directory/changes/99999999999999999999").status_code == 404
    assert mod.get("/directory/AUT-BMJ/history/99999999999999999999").status_code == 404
    assert mod.get("/directory/AUT-BMJ/propose?from=99999999999999999999").status_code == 403
    assert submit(mod, "/directory/changes/999999/approve", page="/directory/changes").status_code == 404
    assert all_changes()[0].status == "proposed"


# ---------------------------------------------------------------- re-confirming

def test_a_focal_point_reconfirms_the_entry_unchanged(auth, entry, fp, member_factory, moderator):
    client = auth.client_for(fp)
    response = submit(client, "/directory/AUT-BMJ/reconfirm", page="/directory/mine")
    assert response.status_code == 302 and response.headers["Location"].endswith("/directory/AUT-BMJ")

    from network.core.db import db
    from network.directory.services import get_version

    db.session.expire_all()
    assert entry.last_verified == TODAY
    version = get_version(entry, 2)
    assert version.source == "reconfirmation" and version.approved_by_id == fp.id
    assert version.data["last_verified"] == TODAY.isoformat()
    assert "directory.reconfirmed" in audit_actions()
    # once a day is enough
    submit(client, "/directory/AUT-BMJ/reconfirm", page="/directory/mine")
    assert get_version(entry, 3) is None
    # a colleague who is not a focal point may not; a moderator may
    colleague = member_factory(authority=entry, email="colleague@bmj.example.at")
    assert submit(auth.client_for(colleague), "/directory/AUT-BMJ/reconfirm",
                  page="/account/security").status_code == 403


def test_the_authority_page_offers_re_confirmation_to_those_who_may(auth, entry, fp, member_factory, moderator):
    page = auth.client_for(fp).get("/directory/AUT-BMJ").get_data(as_text=True)
    assert 'id="reconfirm"' in page and 'action="/directory/AUT-BMJ/reconfirm"' in page
    response = submit(auth.client_for(fp), "/directory/AUT-BMJ/reconfirm", page="/directory/AUT-BMJ")
    assert response.status_code == 302
    assert 'id="reconfirm"' in auth.client_for(moderator).get("/directory/AUT-BMJ").get_data(as_text=True)
    colleague = member_factory(authority=entry, email="colleague@bmj.example.at")
    assert 'id="reconfirm"' not in auth.client_for(colleague).get("/directory/AUT-BMJ").get_data(as_text=True)


def test_a_moderator_may_reconfirm_any_entry(auth, entry, moderator):
    response = submit(auth.client_for(moderator), "/directory/AUT-BMJ/reconfirm", page="/directory/changes")
    assert response.status_code == 302
    from network.core.db import db

    db.session.expire_all()
    assert entry.last_verified == TODAY


# ---------------------------------------------------------------- versions

def test_members_read_every_version_and_its_diff_with_the_previous(auth, entry, fp, moderator, member, app):
    change = _proposed(auth, fp, name=NEW_NAME)
    submit(auth.client_for(moderator), f"/directory/changes/{change.id}/approve",
           page=f"/directory/changes/{change.id}")
    reader = auth.client_for(member)
    history = reader.get("/directory/AUT-BMJ/history")
    assert history.status_code == 200
    html = history.get_data(as_text=True)
    assert "/directory/AUT-BMJ/history/2" in html and "/directory/AUT-BMJ/history/1" in html
    assert "Proposed change" in html and "Import" in html and fp.name in html and moderator.name in html

    second = reader.get("/directory/AUT-BMJ/history/2").get_data(as_text=True)
    assert "<del>Criminal Law</del>" in second and "<ins>Cooperation</ins>" in second
    assert 'id="version-entry"' in second and "Europe/Vienna" in second
    first = reader.get("/directory/AUT-BMJ/history/1").get_data(as_text=True)
    assert ENTRY["name"] in first and "The first version" in first
    assert reader.get("/directory/AUT-BMJ/history/3").status_code == 404
    assert reader.get("/directory/NOWHERE-X/history").status_code == 404
    anonymous = app.test_client().get("/directory/AUT-BMJ/history")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


# ---------------------------------------------------------------- reminders

def _remind(app) -> str:
    result = app.test_cli_runner().invoke(args=["directory", "remind"])
    assert result.exit_code == 0, result.output
    return result.output


def test_remind_mails_focal_points_of_stale_entries_once_per_30_days(app, clock, member_factory, moderator, mailbox):
    stale = make_authority(ENTRY, key="AUT-OLD", last_verified="2024-11-30")
    fresh = make_authority(ENTRY, key="AUT-NEW", last_verified="2025-12-01")
    make_authority(ENTRY, key="AUT-LONE", last_verified="2023-01-01")
    stale_fp = member_factory(roles=("focal_point",), authority=stale, email="old@bmj.example.at")
    fresh_fp = member_factory(roles=("focal_point",), authority=fresh, email="new@bmj.example.at")

    output = _remind(app)
    assert "AUT-OLD" in output and "AUT-LONE" in output and "AUT-NEW" not in output
    assert "AUT-OLD" in mailbox.body(stale_fp.email) and "/directory/AUT-OLD/propose" in mailbox.body(stale_fp.email)
    assert mailbox.to(fresh_fp.email) == []
    summary = mailbox.body(moderator.email)
    assert "AUT-LONE" in summary and "AUT-OLD" not in summary
    assert "directory.stale_reminders" in audit_actions()

    mailbox.clear()
    clock.advance(days=29)
    assert "0 stale entries reminded" in _remind(app)
    assert mailbox.messages == []

    clock.advance(days=2)
    _remind(app)
    assert len(mailbox.to(stale_fp.email)) == 1 and len(mailbox.to(moderator.email)) == 1
    assert mailbox.to(fresh_fp.email) == []


def test_remind_leaves_reconfirmed_entries_alone(app, auth, member_factory, mailbox):
    stale = make_authority(ENTRY, key="AUT-OLD", last_verified="2024-11-30")
    stale_fp = member_factory(roles=("focal_point",), authority=stale, email="old@bmj.example.at")
    assert submit(auth.client_for(stale_fp), "/directory/AUT-OLD/reconfirm", page="/directory/mine").status_code == 302
    mailbox.clear()
    assert "0 stale entries reminded" in _remind(app)
    assert mailbox.to(stale_fp.email) == []


# ---------------------------------------------------------------- the focal point's page and the menus

def test_my_directory_entries_lists_the_focal_points_authorities(auth, entry, fp, moderator, member):
    client = auth.client_for(fp)
    page = client.get("/directory/mine").get_data(as_text=True)
    assert ENTRY["name"] in page and "Re-confirm unchanged" in page and "/directory/AUT-BMJ/propose" in page
    assert "My directory entries" in client.get("/").get_data(as_text=True)
    assert auth.client_for(member).get("/directory/mine").status_code == 403
    _proposed(auth, fp, name=NEW_NAME)
    assert "Directory changes (1)" in auth.client_for(moderator).get("/").get_data(as_text=True)


# ---------------------------------------------------------------- on PostgreSQL too

@pytest.mark.persistence
def test_approving_a_change_persists_the_entry_and_its_version(auth, entry, fp, moderator, mailbox, db_backend):
    change = _proposed(auth, fp, name=NEW_NAME, designations=["untoc_mla_central", "untoc_confiscation"],
                       national_laws="Extradition and Mutual Assistance Act | https://ris.example.at/arhg\nCode of "
                                     "Criminal Procedure")
    response = submit(auth.client_for(moderator), f"/directory/changes/{change.id}/approve",
                      page=f"/directory/changes/{change.id}")
    assert response.status_code == 302
    fp_email = fp.email

    from network.core.db import db
    from network.directory.models import Authority
    from network.directory.services import get_version

    db.session.remove()  # read back from the database, not the session's memory
    stored = db.session.scalar(select(Authority).where(Authority.key == "AUT-BMJ"))
    assert stored.name == NEW_NAME and stored.designations == ["untoc_mla_central", "untoc_confiscation"]
    assert stored.national_laws[1] == {"title": "Code of Criminal Procedure"}
    assert stored.last_verified == TODAY
    assert get_version(stored, 2).data["designations"] == ["untoc_mla_central", "untoc_confiscation"]
    assert "approved" in mailbox.last(fp_email)["Subject"]
