"""Reference data and demonstration data of the directory: the UN regional groups of the 193 Member States, and a
fictional directory that is valid, clearly labelled, covers every region, group and designation, completes the
demo accounts' authorities by key, and loads idempotently through `flask demo load`."""
from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pycountry
import pytest
from sqlalchemy import func, select

GROUP_SIZES = {"african": 54, "asia_pacific": 54, "eastern_european": 23, "latin_american_caribbean": 33,
               "western_european_others": 29}


# ---------------------------------------------------------------- UN regional groups

def group_rows() -> list[dict]:
    from network.directory.states import GROUPS_PATH

    lines = GROUPS_PATH.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and "regional groups" in lines[0] and "Member States" in lines[0]
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


def test_the_regional_groups_file_lists_the_193_member_states_once_each_with_iso_codes():
    rows = group_rows()
    codes = [row["state"] for row in rows]
    assert len(codes) == len(set(codes)) == 193
    assert all(pycountry.countries.get(alpha_3=code) is not None for code in codes)
    assert Counter(row["group"] for row in rows) == GROUP_SIZES  # Kiribati counted in Asia-Pacific, the USA in WEOG


@pytest.mark.parametrize(("code", "group"), [
    ("TUR", "western_european_others"), ("ISR", "western_european_others"), ("USA", "western_european_others"),
    ("AUS", "western_european_others"), ("KIR", "asia_pacific"), ("CYP", "asia_pacific"), ("KAZ", "asia_pacific"),
    ("EST", "eastern_european"), ("GEO", "eastern_european"), ("CUB", "latin_american_caribbean"),
    ("SSD", "african"), ("EGY", "african"), ("PSE", "none"), ("VAT", "none"), ("TWN", "none"), ("COK", "none"),
])
def test_states_know_their_group(code, group):
    from network.directory.states import get_state

    assert get_state(code).regional_group == group


# ---------------------------------------------------------------- the demonstration entries

def test_every_demo_entry_is_valid_and_clearly_fictional(app):
    from network.directory.demo import FICTIONAL, demo_entries
    from network.directory.hours import parse_office_hours
    from network.directory.services import validation_errors

    entries = demo_entries()
    assert len({entry["key"] for entry in entries}) == len(entries)
    for entry in entries:
        assert validation_errors(entry) == [], entry["key"]
        assert entry["legal_requirements"].startswith(FICTIONAL) and "fictional" in entry["parent_body"]
        assert entry["address"].endswith("(fictional address)")
        assert "555" in entry["phone"].replace(" ", "")
        hosts = [entry["email"].rsplit("@", 1)[1], *entry["email_domains"]]
        hosts += [urlsplit(url).hostname for url in [entry.get("website", "")] if url]
        hosts += [urlsplit(law["url"]).hostname for law in entry.get("national_laws", []) if law.get("url")]
        for host in hosts:  # reserved for examples (the demo accounts' older domains have .example. inside)
            assert host.endswith(".example") or ".example." in host, (entry["key"], host)
        assert parse_office_hours(entry["office_hours"]) is not None, entry["key"]
        assert re.search(r"^#{2,3} ", entry["legal_requirements"], re.M), entry["key"]  # Markdown headings
        assert re.search(r"^(- |\d\. )", entry["legal_requirements"], re.M), entry["key"]  # and lists


def test_the_demo_directory_covers_regions_groups_designations_and_staleness(app, clock):
    from network.directory.demo import demo_entries
    from network.directory.services import designation_labels
    from network.directory.states import REGIONAL_GROUPS, get_state

    entries = demo_entries()
    states = {entry["state"] for entry in entries}
    assert len(states) >= 30
    assert {get_state(code).regional_group for code in states} == set(REGIONAL_GROUPS)
    assert {get_state(code).region for code in states} == {"africa", "americas", "asia", "europe", "oceania"}
    assert {code for entry in entries for code in entry["designations"]} == set(designation_labels())
    per_state = Counter(entry["state"] for entry in entries)
    assert sum(1 for n in per_state.values() if n >= 2) >= 10 and max(per_state.values()) >= 3
    today = clock.now.date()
    ages = [(today - date.fromisoformat(e["last_verified"])).days
            for e in entries if "last_verified" in e]
    assert sum(1 for age in ages if age > 365) >= 5 and sum(1 for age in ages if age <= 365) >= 30
    assert sum(1 for entry in entries if "last_verified" not in entry) == 1  # one never verified
    assert len({entry["time_zone"] for entry in entries}) >= 25
    assert {lang for entry in entries for lang in entry["languages"]} >= {"en", "fr", "es", "ar", "ru", "pt"}
    assert {channel for entry in entries for channel in entry["channels"]} == {"direct", "diplomatic", "interpol",
                                                                            "network"}
    assert any(entry.get("available_24_7") for entry in entries)
    assert any(entry.get("accepts_untoc_as_legal_basis") is False for entry in entries)
    assert all(entry.get("treaties") for entry in entries if "untoc_mla_central" in entry["designations"])


def test_the_demo_accounts_authorities_keep_their_key_state_and_e_mail_domains():
    from network.directory.demo import ENTRIES
    from network.members.demo import ACCOUNTS, AUTHORITIES, PENDING

    by_key = {entry["key"]: entry for entry in ENTRIES}
    for key, state, _name, domains in AUTHORITIES:
        assert by_key[key]["state"] == state and by_key[key]["email_domains"] == domains
    used = {account[4] for account in ACCOUNTS if account[4]} | {pending[3] for pending in PENDING}
    assert used <= set(by_key)


# ---------------------------------------------------------------- loading

@pytest.mark.persistence
@pytest.mark.config(DEMO_MODE=True)
def test_demo_load_completes_the_account_authorities_and_is_idempotent_on_later_days(app, clock):
    from network.core.db import db
    from network.directory.demo import ENTRIES
    from network.directory.models import Authority, AuthorityVersion
    from network.directory.services import is_stale
    from network.members.services import find_member

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "6 authorities created" in result.output  # network/members/demo.py: the accounts' authorities, by name
    assert f"{len(ENTRIES) - 6} directory entries created" in result.output
    assert "6 directory entry versions created" in result.output  # ...completed by key, not duplicated
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Authority)) == len(ENTRIES)
    versions = db.session.scalar(select(func.count()).select_from(AuthorityVersion))
    assert versions == len(ENTRIES)
    aut = db.session.scalar(select(Authority).where(Authority.key == "AUT-MOJ"))
    assert "untoc_mla_central" in aut.designations and aut.time_zone == "Europe/Vienna"
    assert aut.versions[0].source == "demo" and not is_stale(aut)
    assert find_member("focal@justiz.example.at").authority_id == aut.id
    stale = db.session.scalars(select(Authority)).all()
    assert 5 <= sum(1 for authority in stale if is_stale(authority)) < len(ENTRIES) // 2

    clock.advance(days=10)  # a later day: verification dates counted back from it differ, nothing else
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "0 directory entries created" in again.output and "0 directory entry versions created" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Authority)) == len(ENTRIES)
    assert db.session.scalar(select(func.count()).select_from(AuthorityVersion)) == versions
