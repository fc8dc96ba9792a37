"""Demonstration data (`flask --app app demo load`): fictional authorities, staff, members and applications.
Available in demo mode only; passwords and second-factor secrets are generated into the instance folder."""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, text

from network.core.cli_context import with_public_url
from network.core.clock import utcnow
from network.core.crypto import seal
from network.core.db import db
from network.directory.models import Authority
from network.members import passwords, services, totp
from network.members.models import Application, Member, Vouch

demo = AppGroup("demo", help="Demonstration data (demo mode only).")
LOADERS_KEY = "network.demo_loaders"


def register_loader(app, loader: Callable[[], dict[str, int]]) -> None:
    """Other parts of the platform (the catalogue's cases) add their demo data here, per application, so the
    network never imports them. A loader is idempotent, runs after the accounts exist, returns {what: created}."""
    loaders = app.extensions.setdefault(LOADERS_KEY, [])
    if loader not in loaders:
        loaders.append(loader)

AUTHORITIES = [
    ("AUT-MOJ", "AUT", "Federal Ministry of Justice, International Criminal Law Division", ["justiz.example.at"]),
    ("BRA-DRCI", "BRA", "Department of Asset Recovery and International Legal Cooperation", ["mj.example.br"]),
    ("NGA-CA", "NGA", "Central Authority Unit, Federal Ministry of Justice", ["justice.example.ng"]),
    ("PHL-DOJ", "PHL", "Department of Justice, Office of the Chief State Counsel", ["doj.example.ph"]),
    ("MEX-FGR", "MEX", "Attorney General's Office, International Affairs Unit", ["fgr.example.mx"]),
    ("FRA-BEPI", "FRA", "Ministry of Justice, Office for Mutual Assistance in Criminal Matters", ["justice.example.fr"]),
]

# (key, e-mail, name, State, authority key, practitioner type, roles, enrolled second factor)
ACCOUNTS = [
    ("admin", "admin@network.example.org", "Ada Administrator", "AUT", None, "other", ("admin",), True),
    ("moderator", "moderator@network.example.org", "Mona Moderator", "FRA", None, "other", ("moderator",), True),
    ("moderator2", "moderator2@network.example.org", "Mateo Moderador", "MEX", None, "other", ("moderator",), True),
    ("focal_aut", "focal@justiz.example.at", "Franz Fokus", "AUT", "AUT-MOJ", "central_authority_officer",
     ("focal_point",), True),
    ("focal_nga", "focal@justice.example.ng", "Ngozi Okafor", "NGA", "NGA-CA", "central_authority_officer",
     ("focal_point",), True),
    ("member_bra", "ana.souza@mj.example.br", "Ana Souza", "BRA", "BRA-DRCI", "prosecutor", (), True),
    ("member_phl", "jose.reyes@doj.example.ph", "José Reyes", "PHL", "PHL-DOJ", "prosecutor", (), True),
    ("member_new", "new.member@justice.example.fr", "Nora Nouvelle", "FRA", "FRA-BEPI", "judge", (), False),
]

PENDING = [
    ("applicant.at@justiz.example.at", "Lena Berger", "AUT", "AUT-MOJ", "central_authority_officer", 60,
     "I handle incoming mutual legal assistance requests from West Africa and need direct contacts."),
    ("k.adeyemi@gmail.example.com", "Kunle Adeyemi", "NGA", "NGA-CA", "prosecutor", 5,
     "Prosecutor in a trafficking in persons case with requests pending in three States."),
    ("r.cruz@fgr.example.mx", "Rosa Cruz", "MEX", "MEX-FGR", "liaison_magistrate", 20,
     "Liaison magistrate; I coordinate extradition requests with Central American partners."),
]


def accounts_file() -> Path:
    return Path(current_app.instance_path) / "demo-accounts.json"


def _require_demo_mode() -> None:
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("Demo data exists only in demo mode (NETWORK_DEMO_MODE=1, as `make run` sets).")


def write_accounts(accounts: dict) -> None:
    """The demo accounts file, readable by its owner only (it holds passwords)."""
    path = accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(accounts, handle, indent=2)


def load_demo_data() -> dict[str, int]:
    """Idempotent: creates what is missing, leaves what exists."""
    created = {"authorities": 0, "accounts": 0, "applications": 0}
    authorities = {}
    for key, state, name, domains in AUTHORITIES:
        authority = db.session.scalar(select(Authority).where(Authority.key == key))
        if authority is None:
            authority = Authority(key=key, state=state, name=name, email_domains=domains)
            db.session.add(authority)
            created["authorities"] += 1
        authorities[key] = authority
    db.session.flush()
    path = accounts_file()
    accounts = json.loads(path.read_text()) if path.exists() else {}
    with click.progressbar(ACCOUNTS, label="Demo accounts") as bar:
        for key, email, name, state, authority_key, kind, roles, enrolled in bar:
            if services.find_member(email) is not None and key in accounts:
                continue
            existing = services.find_member(email)
            password = "demo-" + secrets.token_urlsafe(12)
            if existing is not None:
                existing.password_hash = passwords.hash_password(password)
                member = existing
            else:
                member = services.create_member(email, name, password, state, kind,
                                                authorities.get(authority_key), roles=("member", *roles))
                created["accounts"] += 1
            entry = {"email": email, "password": password, "roles": ["member", *roles]}
            if enrolled:
                secret = totp.new_secret()
                member.totp_secret = seal(secret.encode(), f"totp:{member.id}")
                member.mfa_enrolled_at = utcnow()
                entry["totp_secret"] = secret
            accounts[key] = entry
    now = utcnow()
    for email, name, state, authority_key, kind, hours, reason in PENDING:
        if services.find_member(email) is not None:
            continue
        member = Member(email=email, name=name, state=state, authority_id=authorities[authority_key].id,
                        practitioner_type=kind, languages=["en"], position="Senior officer",
                        password_hash=passwords.hash_password(secrets.token_urlsafe(16)), status="pending")
        db.session.add(member)
        db.session.flush()
        application = Application(member_id=member.id, reason=reason, status="submitted",
                                  email_verified_at=now - timedelta(hours=hours),
                                  submitted_at=now - timedelta(hours=hours))
        db.session.add(application)
        db.session.flush()
        if authority_key == "AUT-MOJ":
            focal = services.find_member("focal@justiz.example.at")
            db.session.add(Vouch(application_id=application.id, focal_point_id=focal.id, decision="vouched",
                                 note="Known colleague in our MLA unit."))
        created["applications"] += 1
    db.session.flush()
    write_accounts(accounts)  # before the loaders: messaging reads the passwords to wrap the demo keys
    for loader in current_app.extensions.get(LOADERS_KEY, []):
        created.update(loader())
    return created


@demo.command("load")
@with_public_url
def load() -> None:
    """Create the demonstration authorities, accounts and applications (idempotent)."""
    _require_demo_mode()
    created = load_demo_data()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as after any bulk load: statistics for the planner and for search
        with db.engine.connect() as connection:  # (its words' shares), before autovacuum would get to it
            connection.execute(text("ANALYZE"))
            connection.commit()
    click.echo("Demo data: " + ", ".join(f"{n} {what} created" for what, n in created.items()))


@demo.command("accounts")
def show_accounts() -> None:
    """Print the demo accounts, their passwords and how to pass their second factor."""
    _require_demo_mode()
    path = accounts_file()
    if not path.exists():
        raise click.ClickException("No demo accounts yet: run `flask --app app demo load`.")
    accounts = json.loads(path.read_text())
    click.echo("\nDemo accounts (fictional; generated for this instance, stored in " + str(path) + "):\n")
    for entry in accounts.values():
        click.echo(f"  {entry['email']:<36} password {entry['password']:<24} roles: {', '.join(entry['roles'])}")
        if entry.get("totp_secret"):
            click.echo(f"  {'':<36} TOTP secret {entry['totp_secret']} (add it to an authenticator app)")
        else:
            click.echo(f"  {'':<36} no second factor yet: you will enrol one at first sign-in")
    click.echo(f"\nSign in at {current_app.config['PUBLIC_URL']}/sign-in with an e-mail and password above, then give the")
    click.echo("6-digit code: from an authenticator app holding the secret, or printed by")
    click.echo("    .venv/bin/flask --app app demo codes      (with NETWORK_DEMO_MODE=1)\n")


@demo.command("codes")
def codes() -> None:
    """Print the current authentication code of each enrolled demo account."""
    _require_demo_mode()
    path = accounts_file()
    if not path.exists():
        raise click.ClickException("No demo accounts yet: run `flask --app app demo load`.")
    step = totp.current_step()
    for entry in json.loads(path.read_text()).values():
        if entry.get("totp_secret"):
            click.echo(f"{entry['email']:<36} {totp.code_at(entry['totp_secret'], step)}")
