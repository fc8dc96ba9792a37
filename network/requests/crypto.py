"""Sealing a request's content and its event notes like messages, and signing its status events in a hash chain.

Content reuses the message envelope (network.messaging.envelope): one AES-256-GCM body, the key wrapped with HPKE
(ML-KEM-768 + X25519) for the drafter's slot and each authority mailbox slot, the author's Ed25519 signature over the
whole; the envelope's conversation_id is the request's public id, so an envelope cannot be moved to another request.
Events are signed with the same Ed25519 keys as receipts and each names the digest of the one before."""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from flask_babel import gettext as _
from sqlalchemy import select

from network.core.db import db
from network.members.models import Member
from network.messaging import lifecycle, mailboxes
from network.messaging.envelope import encrypt_message, load_envelope, open_message
from network.messaging.formats import (
    FORMAT_VERSION,
    SIGNATURE_LENGTH,
    MessagingCryptoError,
    NotARecipient,
    SessionKeysUnavailable,
    authority_slot,
    b64d,
    b64e,
    canonical,
    member_slot,
    utc_timestamp,
)
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys
from network.messaging.models import MemberKeys

SUITE_EVENT = "request-event/1"
_DOMAIN = "network/requests/v1/{}\x00"


def _domain(label: str) -> bytes:
    return _DOMAIN.format(label).encode()


class RequestCryptoError(MessagingCryptoError):
    pass


# ---------------------------------------------------------------- who holds a key to a request

def recipient_keys(request, *, drafter: Member | None, include_requested: bool) -> dict[str, object]:
    """slot -> public key: the drafter (when not the author, the author's own copy is added by the envelope), the
    requesting authority's mailbox when it has a key, and the requested authority's once the request is sent. An
    imported record: the importing authority's mailbox alone."""
    keys: dict[str, object] = {}
    if drafter is not None:
        current = lifecycle.current_keys(drafter)
        if current is not None and drafter.status == "active":
            keys[member_slot(drafter.id)] = lifecycle.public_keys(current)
    authorities = ((request.requesting_authority_id, True), (request.requested_authority_id, include_requested))
    if request.imported_authority_id is not None:
        authorities = ((request.imported_authority_id, True),)
    for authority_id, wanted in authorities:
        if not wanted:
            continue
        key = mailboxes.current_key(authority_id)
        if key is not None:
            keys[authority_slot(authority_id)] = mailboxes.public_key(key)
    return keys


def seal(request, payload: Mapping, author: Member, author_private: MemberPrivateKeys, *,
         include_requested: bool, purpose: str = "content") -> bytes:
    """An envelope of `payload` (JSON) for the request's readers, signed by its author. `purpose` tells a content
    envelope from an event note's (the message id says which, and is signed)."""
    recipients = recipient_keys(request, drafter=request.drafted_by, include_requested=include_requested)
    recipients.pop(member_slot(author.id), None)  # the author's own copy comes with the envelope
    header = {"message_id": f"{purpose}-{uuid.uuid4().hex}", "conversation_id": request.public_id,
              "sent_at": utc_timestamp(), "urgent": bool(request.urgent),
              "handling": {"confidential": bool(request.confidential), "limited_use": bool(request.limited_use)}}
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    if not recipients:
        # A drafter outside any mailbox, before sending: sealed to the drafter alone (as sender and sole reader).
        recipients = {member_slot(author.id) + ".self": author_private.public}
    envelope = encrypt_message(header, body, member_slot(author.id), author_private, recipients)
    return envelope.to_bytes()


def _sender_public(header: Mapping) -> MemberPublicKeys:
    sender = header["sender"]
    if not sender.startswith("member:"):
        raise RequestCryptoError("the envelope's author is not a member")
    member_id = int(sender.split(":", 1)[1])
    row = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == member_id,
                                                     MemberKeys.key_version == header["sender_key_version"]))
    if row is None:
        raise RequestCryptoError("the author's keys are unknown")
    return lifecycle.public_keys(row)


def _slots_for(reader: Member, request, privates: Mapping[int, MemberPrivateKeys]) -> list[tuple[str, object]]:
    slots: list[tuple[str, object]] = [(member_slot(reader.id), privates)]
    for authority_id in (request.requesting_authority_id, request.requested_authority_id):
        if mailboxes.is_holder(reader, authority_id):
            slots.append((authority_slot(authority_id), mailboxes.authority_privates(reader, authority_id, privates)))
    return slots


def open_sealed(data: bytes, request, reader: Member, privates: Mapping[int, MemberPrivateKeys] | None = None) -> dict:
    """The payload of a sealed envelope of this request, for a reader whose session (or `privates`) opens one of its
    slots. The author's signature is checked first; any failure raises a MessagingCryptoError."""
    if privates is None:
        privates = lifecycle.session_private_keys(reader)
    envelope = load_envelope(data)
    if envelope.header["conversation_id"] != request.public_id:
        raise RequestCryptoError("this envelope belongs to another request")
    sender = _sender_public(envelope.header)
    held = {w.slot for w in envelope.wraps}
    for slot, private in _slots_for(reader, request, privates):
        if slot not in held:
            continue
        opened = open_message(envelope, slot, private, sender, expected_conversation_id=request.public_id)
        return json.loads(opened.body.decode("utf-8"))
    own_copy = member_slot(reader.id)
    if own_copy in held:
        raise RequestCryptoError("this session does not hold the key version the request was sealed to")
    raise NotARecipient("no key of this reader opens the request")


def can_open(data: bytes, request, reader: Member) -> bool:
    try:
        open_sealed(data, request, reader)
    except (MessagingCryptoError, SessionKeysUnavailable, ValueError):
        return False
    return True


def content_digest(data: bytes) -> str:
    return b64e(hashlib.sha256(_domain("content") + data).digest())


# ---------------------------------------------------------------- signed events in a chain

def event_record(request_public_id: str, seq: int, kind: str, status: str, side: str, actor: Member,
                 actor_private: MemberPrivateKeys, at: str, prev: str, note: bytes | None,
                 content: bytes | None = None) -> dict:
    """The signed record of one event: what happened, by whom, when, after which event (prev: its digest), and the
    digests of the sealed note and (for "sent") of the content sent."""
    record = {"v": FORMAT_VERSION, "suite": SUITE_EVENT, "request": request_public_id, "seq": seq, "kind": kind,
              "status": status, "side": side, "actor": member_slot(actor.id), "key_version": actor_private.key_version,
              "at": at, "prev": prev, "note": content_digest(note) if note else "",
              "content": content_digest(content) if content else ""}
    record["sig"] = b64e(actor_private.signing_key.sign(_domain("event") + canonical(record)))
    return record


def record_digest(record: Mapping) -> str:
    return hashlib.sha256(_domain("event-digest") + canonical(dict(record))).hexdigest()


@dataclass
class ChainReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    verified: int = 0

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def _actor_public(record: Mapping) -> MemberPublicKeys | None:
    actor = record.get("actor", "")
    if not isinstance(actor, str) or not actor.startswith("member:") or not actor[7:].isdigit():
        return None
    row = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == int(actor[7:]),
                                                     MemberKeys.key_version == record.get("key_version")))
    return lifecycle.public_keys(row) if row is not None else None


def verify_chain(request) -> ChainReport:
    """Every event's signature, its place (seq 1, 2, 3...), the digest it names of the one before, the stored digest,
    and the request's head (count and newest digest): a changed, removed, reordered or forged event is detected."""
    report = ChainReport()
    prev = ""
    events = sorted(request.events, key=lambda e: e.seq)
    for expected_seq, event in enumerate(events, start=1):
        try:
            record = json.loads(event.record)
        except ValueError:
            report.fail(_("Event %(n)d: the record cannot be read.", n=event.seq))
            continue
        if not isinstance(record, dict):
            report.fail(_("Event %(n)d: the record cannot be read.", n=event.seq))
            continue
        if record.get("seq") != expected_seq or event.seq != expected_seq:
            report.fail(_("Event %(n)d: out of place (an event was removed or reordered).", n=expected_seq))
        if record.get("request") != request.public_id:
            report.fail(_("Event %(n)d: belongs to another request.", n=expected_seq))
        if record.get("prev") != prev:
            report.fail(_("Event %(n)d: does not follow the event before it (one was changed or removed).",
                          n=expected_seq))
        if (record.get("status"), record.get("kind"), record.get("side")) != (event.status, event.kind, event.side):
            report.fail(_("Event %(n)d: the stored status differs from the signed one.", n=expected_seq))
        if event.actor_id is not None and record.get("actor") != member_slot(event.actor_id):
            report.fail(_("Event %(n)d: the stored officer differs from the signer.", n=expected_seq))
        if (event.note and record.get("note") != content_digest(event.note)) or (not event.note and record.get("note")):
            report.fail(_("Event %(n)d: the note differs from the signed one.", n=expected_seq))
        public = _actor_public(record)
        unsigned = {k: v for k, v in record.items() if k != "sig"}
        try:
            if public is None:
                raise InvalidSignature
            public.signing_key.verify(b64d(record.get("sig", ""), length=SIGNATURE_LENGTH, field="sig"),
                                      _domain("event") + canonical(unsigned))
        except (InvalidSignature, MessagingCryptoError, TypeError, ValueError):
            report.fail(_("Event %(n)d: the signature does not verify.", n=expected_seq))
        try:
            digest = record_digest(record)
        except (MessagingCryptoError, TypeError, ValueError):
            digest = ""
        if event.digest != digest:
            report.fail(_("Event %(n)d: the stored digest does not match the record.", n=expected_seq))
        prev = digest
        report.verified += 1
    if request.event_count != len(events) or request.head_digest != prev:
        report.fail(_("The newest events are missing (the request names a later event than the last one stored)."))
    return report
