"""E-mail: messages are queued in an outbox table in the request's transaction and handed over after commit."""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from flask import current_app, g, render_template
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db
from network.core.text import single_line

log = logging.getLogger("network.mail")


class OutboxMail(db.Model):
    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    # Set by the worker while it hands the mail to SMTP (network/core/worker.py): no other worker takes it meanwhile.
    sending_until: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} to={self.recipient!r}>"


def header_text(value: str, limit: int = 300) -> str:
    """Text that may go into a mail header: one line (control and line-separator characters become spaces) and no
    RFC 2047 encoded word ("=?utf-8?q?...=0D=0A...?=" would decode to a CR LF and add headers of its own)."""
    return single_line(str(value or "").replace("=?", "= ?"), limit)


def _one_address(text: str) -> bool:
    """Exactly one plain address and nothing else ("a@b.org Bcc: c@d.org" would be parsed as a group)."""
    found = getaddresses([text])
    return len(found) == 1 and found[0][1] == text and text.count("@") == 1 and " " not in text


def queue_mail(recipient: str, subject: str, template: str, /, **context: object) -> OutboxMail:
    """Render a plain-text mail and queue it; it leaves only if the transaction commits. The subject and the
    recipient are header text (one line, no encoded words), whatever a member or an import put in them.

    The mail is written in the recipient's language (`network.core.i18n.recipient_language`: the member's chosen
    language), whoever's request sends it: the body is rendered, and a lazy subject (`_l(...)`) translated, in it."""
    from network.core.i18n import in_language, recipient_language

    with in_language(recipient_language(recipient, context)):
        body = render_template(f"mail/{template}.txt", **context)
        subject = header_text(subject)  # str() of a lazy string: translated here, in the recipient's language
    mail = OutboxMail(recipient=header_text(recipient), subject=subject, body=body)
    db.session.add(mail)
    db.session.flush()
    g.setdefault("queued_mail_ids", []).append(mail.id)
    return mail


def _transmit(mail: OutboxMail) -> None:
    config = current_app.config
    message = EmailMessage()
    recipient = header_text(mail.recipient)  # again: rows queued before the rule, or written elsewhere
    if not _one_address(recipient):
        raise ValueError("the recipient is not one e-mail address")
    message["From"] = config["MAIL_SENDER"]
    message["To"] = recipient
    message["Subject"] = header_text(mail.subject)
    message["Message-ID"] = make_msgid(domain="network.invalid")
    message.set_content(mail.body)
    if config["MAIL_BACKEND"] == "console":
        print(f"\n----- mail to {mail.recipient}: {mail.subject}\n{mail.body}\n-----", flush=True)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver(mails: list[OutboxMail]) -> tuple[int, int]:
    """Send the given outbox rows, mark them, and commit. Returns (sent, failed)."""
    sent = failed = 0
    for mail in mails:
        mail.attempts += 1
        try:
            _transmit(mail)
        except (OSError, smtplib.SMTPException, ValueError) as error:  # ValueError: a header the policy refuses
            mail.last_error = str(error)[:500]
            failed += 1
            log.warning("mail %s to %s not delivered: %s", mail.id, mail.recipient, error)
        else:
            mail.sent_at = utcnow()
            sent += 1
    db.session.commit()
    return sent, failed


def deliver_queued() -> None:
    """After the request's commit: try to send what it queued. Failures stay for `flask mail flush`. With
    MAIL_SENT_BY_WORKER the worker sends it (network/core/worker.py): nothing here waits for SMTP."""
    ids = vars(g._get_current_object()).pop("queued_mail_ids", None)  # g.pop, without the proxy's look-up
    if ids and not current_app.config.get("MAIL_SENT_BY_WORKER"):
        deliver(list(db.session.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids)))))


def pending_mail(limit: int = 500) -> list[OutboxMail]:
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.id).limit(limit)
        )
    )


def transport_status() -> tuple[bool, str]:
    """For /healthz: can the mail transport be reached?"""
    config = current_app.config
    if config["MAIL_BACKEND"] == "console":
        return True, "console"
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=3) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        return False, type(error).__name__
    return True, "smtp"
