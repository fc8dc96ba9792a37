"""Demonstration messaging (part of `flask --app app demo load`): the demo accounts get their keys, the Austrian
ministry's mailbox is opened by its focal point, and a few fictional conversations show the handling instructions,
a mailbox reply written on behalf of the authority and a group conversation.

Keys are wrapped under the generated demo passwords (read from the instance's demo-accounts.json), so signing in
unlocks them at once; each account's recovery key is written to that file and counted as confirmed."""
from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import func, select

from network.core.clock import utcnow
from network.core.db import db
from network.directory.models import Authority
from network.members.demo import accounts_file, write_accounts
from network.members.models import Member
from network.messaging import lifecycle, mailboxes, services
from network.messaging.keys import MemberPrivateKeys
from network.messaging.models import Conversation

MAILBOX_AUTHORITY = "AUT-MOJ"
MAILBOX_OPENER = "focal_aut"

# (sender, recipients, subject, text, confidential, limited use, replies: [(sender, text)])
CONVERSATIONS = [
    ("member_bra", ["member_phl"], "Bank records of a shell company: request for expedited execution",
     "Dear colleague, our request of last week concerns the accounts of a company registered in your jurisdiction "
     "(fictional case). The suspects may move the funds at any moment: could your unit execute it with priority? "
     "The court order and the list of accounts are in the formal request.", True, True,
     [("member_phl", "Received. Our prosecutor has the file; we expect the bank's answer within ten days and will "
                     "send the records through the central authority.")]),
    ("member_phl", ["member_bra", "focal_nga"], "Videoconference hearing of a witness: time zones and interpreters",
     "For the hearing planned next month, our court sits from 09:00 Manila time. Would 14:00 UTC+8 suit both of "
     "you? We will provide Portuguese and English interpretation (fictional example).", False, False,
     [("focal_nga", "14:00 Manila time is 07:00 in Abuja: our court can sit then. Please send the technical test "
                    "date."),
      ("member_bra", "It suits us too. Our liaison will join the technical test.")]),
]

MAILBOX_MESSAGE = (
    "focal_nga", "Extradition request: supplementary information on dual criminality",
    "Following your request for supplementary information, we confirm that the conduct described (laundering the "
    "proceeds of fraud) is an offence under our law punishable by up to ten years. The certified translation follows "
    "by diplomatic channel (fictional case).",
    "Thank you: we have forwarded the information to the court. We will tell you the date of the hearing.")


def _accounts() -> dict:
    path = accounts_file()
    return json.loads(path.read_text()) if path.exists() else {}


def load_demo_messaging() -> dict[str, int]:
    """Idempotent: keys for demo accounts that have none; the mailbox and conversations only on a platform that has no
    conversation yet."""
    created = {"messaging key sets": 0, "conversations": 0}
    accounts = _accounts()
    people: dict[str, tuple[Member, MemberPrivateKeys]] = {}
    changed = False
    for key, entry in accounts.items():
        member = db.session.scalar(select(Member).where(Member.email == entry["email"]))
        if member is None or member.status != "active":
            continue
        if lifecycle.current_keys(member) is None:
            keys, private, recovery_key = lifecycle.create_key_set(member, entry["password"])
            keys.recovery_confirmed_at = utcnow()
            entry["messaging_recovery_key"] = recovery_key
            created["messaging key sets"] += 1
            changed = True
        else:
            private = lifecycle.current_private_with_password(member, entry["password"])
        if private is not None:
            people[key] = (member, private)
    if changed:
        write_accounts(accounts)
    if db.session.scalar(select(func.count()).select_from(Conversation)):
        return created
    if not all(name in people for name in (MAILBOX_OPENER, "member_bra", "member_phl", "focal_nga")):
        current_app.logger.info("demo messaging: some demo accounts are missing; no conversations made")
        return created

    for sender, recipients, subject, text, confidential, limited, replies in CONVERSATIONS:
        handling = services.Handling(confidential=confidential, limited_use=limited)
        member, private = people[sender]
        conversation = services.start_conversation(member, [people[r][0] for r in recipients], subject, text,
                                                   handling, private=private)
        for replier, answer in replies:
            services.reply(people[replier][0], conversation, answer, handling, private=people[replier][1])
        created["conversations"] += 1

    authority = db.session.scalar(select(Authority).where(Authority.key == MAILBOX_AUTHORITY))
    opener, opener_private = people[MAILBOX_OPENER]
    if authority is not None and mailboxes.state(authority) == "closed" and mailboxes.can_open(opener, authority):
        mailboxes.open_mailbox(opener, authority, private=opener_private)
        sender_key, subject, text, answer = MAILBOX_MESSAGE
        writer, writer_private = people[sender_key]
        handling = services.Handling(confidential=True)
        conversation = services.write_to_authority(writer, authority, subject, text, handling,
                                                   private=writer_private)
        services.reply(opener, conversation, answer, handling, private=opener_private)
        created["conversations"] += 1
    db.session.flush()
    return created
