"""Membership commands: yearly revalidation, vetting reminders, reinstating, creating accounts."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from network.core.cli_context import with_public_url
from network.core.db import db
from network.core.mail import deliver_queued
from network.core.reference import practitioner_types
from network.directory.models import Authority
from network.members import services

members_cli = AppGroup("members", help="Membership: revalidation, reminders, reinstating.")
users_cli = AppGroup("users", help="Accounts.")


def _commit_and_send() -> None:
    db.session.commit()
    deliver_queued()


@members_cli.command("revalidate")
@with_public_url
def revalidate() -> None:
    """Daily: remind members whose year is ending, lapse those not re-confirmed, remind moderators."""
    result = services.revalidate()
    reminded = services.remind_moderators()
    _commit_and_send()
    click.echo(f"{result['reminded']} members reminded, {result['lapsed']} lapsed, "
               f"{reminded} waiting applications reported to moderators.")


@members_cli.command("remind")
@with_public_url
def remind() -> None:
    """Remind moderators of applications waiting longer than VETTING_REMINDER_HOURS."""
    count = services.remind_moderators()
    _commit_and_send()
    click.echo(f"{count} waiting applications reported to moderators.")


@members_cli.command("reinstate")
@click.argument("email")
@with_public_url
def reinstate(email: str) -> None:
    """Reinstate a suspended or lapsed member (an administrator locked out, for instance). Audited, actor "cli"."""
    member = services.find_member(email)
    if member is None:
        raise click.ClickException(f"no member with the e-mail address {email}")
    try:
        services.reinstate(member, services.Operator())
    except services.MembershipError as error:
        raise click.ClickException(error.message) from error
    _commit_and_send()
    click.echo(f"{member.email} is active again.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--state", required=True, help="ISO 3166-1 alpha-3 code")
@click.option("--type", "practitioner_type", default="central_authority_officer",
              type=click.Choice([code for code, _label in practitioner_types()]))
@click.option("--authority", "authority_key", default=None, help="Authority key, e.g. AUT-MOJ")
@click.option("--role", "roles", multiple=True, type=click.Choice(["moderator", "admin", "focal_point"]))
@click.password_option()
def create_user(email, name, state, practitioner_type, authority_key, roles, password) -> None:
    """Create an active member (the first administrator, for instance). The second factor is set up at first sign-in."""
    authority = None
    if authority_key:
        authority = db.session.scalar(select(Authority).where(Authority.key == authority_key))
        if authority is None:
            raise click.BadParameter(f"no authority with key {authority_key}", param_hint="--authority")
    try:
        member = services.create_member(email, name, password, state.upper(), practitioner_type, authority,
                                        roles=("member", *roles))
    except services.MembershipError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {member.email} ({', '.join(('member', *roles))}).")


def register_member_commands(app: Flask) -> None:
    app.cli.add_command(members_cli)
    app.cli.add_command(users_cli)
