"""Key verification: the safety number two members compare out of band, the mark that they did, and the warning
shown in every conversation with a member whose key changed since."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.memo import request_memo, watch
from network.members.models import Member
from network.messaging import lifecycle
from network.messaging.formats import MessagingCryptoError, member_slot
from network.messaging.keys import safety_number
from network.messaging.models import Conversation, KeyVerification, MemberKeys

VERIFIED, UNVERIFIED, CHANGED = "verified", "unverified", "changed"


@dataclass(frozen=True)
class Comparison:
    other: Member
    number: str
    my_fingerprint: str
    their_fingerprint: str
    status: str


def compare(member: Member, other: Member) -> Comparison | None:
    """The safety number of the pair and where the member stands; None if either has no keys yet."""
    mine, theirs = lifecycle.current_keys(member), lifecycle.current_keys(other)
    if mine is None or theirs is None:
        return None
    my_public, their_public = lifecycle.public_keys(mine), lifecycle.public_keys(theirs)
    return Comparison(other=other,
                      number=safety_number(member_slot(member.id), my_public, member_slot(other.id), their_public),
                      my_fingerprint=my_public.fingerprint, their_fingerprint=their_public.fingerprint,
                      status=status(member, other))


def _mark(member: Member, other: Member) -> KeyVerification | None:
    return db.session.scalar(select(KeyVerification).where(KeyVerification.member_id == member.id,
                                                           KeyVerification.other_id == other.id))


def status(member: Member, other: Member) -> str:
    """verified: the member compared the number for the other's present key; changed: they compared it for a key
    the other no longer uses; unverified: never compared."""
    mark = _mark(member, other)
    return _status(mark, lifecycle.current_keys(other) if mark is not None else None)


def _status(mark: KeyVerification | None, current: MemberKeys | None) -> str:
    """status, given the member's mark for the other and the other's current key set."""
    if mark is None:
        return UNVERIFIED
    if current is None or lifecycle.public_keys(current).fingerprint != mark.fingerprint:
        return CHANGED
    return VERIFIED


def mark_verified(member: Member, other: Member) -> None:
    keys = lifecycle.current_keys(other)
    if keys is None or other.id == member.id:
        return
    fingerprint = lifecycle.public_keys(keys).fingerprint
    mark = _mark(member, other)
    if mark is None:
        db.session.add(KeyVerification(member_id=member.id, other_id=other.id, fingerprint=fingerprint,
                                       verified_at=utcnow()))
    else:
        mark.fingerprint, mark.verified_at = fingerprint, utcnow()
    audit.record("messaging.key_verified", other, actor=member, fingerprint=fingerprint)


def _first_key_version(messages, other: Member) -> int | None:
    """The key version the conversation (its messages, in order) first used for the member: as sender, or as a
    recipient's wrap."""
    from network.messaging.services import stored_envelope

    slot = member_slot(other.id)
    for message in messages:
        try:
            envelope = stored_envelope(message)
            if envelope.header["sender"] == slot:
                return envelope.header["sender_key_version"]
            return envelope.wrap_for(slot).key_version
        except MessagingCryptoError:
            continue
    return None


# reader id -> {other member id: the reader's mark for them, or None}, for one request
MARKS_MEMO = watch("messaging_key_marks", KeyVerification)


@functools.cache
def _keys_and_marks():
    """remember_keys_of's statement, built once per process: the values are bound."""
    return (select(MemberKeys, KeyVerification)
            .outerjoin(KeyVerification, (KeyVerification.member_id == bindparam("marks_reader", type_=Integer))
                       & (KeyVerification.other_id == MemberKeys.member_id))
            .where(MemberKeys.member_id.in_(bindparam("marks_members", expanding=True)))
            .order_by(MemberKeys.member_id, MemberKeys.key_version).options(*lifecycle.WRAPS_DEFERRED))


def remember_keys_of(reader: Member, conversation: Conversation) -> None:
    """The key sets of the reader and of every member of the conversation, with the reader's marks for them, in one
    statement: what lifecycle.key_sets (the readiness check, the senders' keys) and changed_keys read for the rest
    of the request. A mark is unique per pair and joins each key set of the member it names."""
    ids = {reader.id} | {p.member_id for p in conversation.participants if p.member_id}
    known = request_memo(MARKS_MEMO).get(reader.id)
    if known is not None and ids - {reader.id} <= set(known) and ids <= set(request_memo(lifecycle.KEY_SETS_MEMO)):
        return  # read with the conversation (services.conversation_for_reading)
    rows = db.session.execute(_keys_and_marks(), {"marks_reader": reader.id, "marks_members": sorted(ids)}).all()
    remember_keys_read(reader, ids, [keys for keys, _mark in rows],
                       {mark.other_id: mark for _keys, mark in rows if mark is not None})


def remember_keys_read(reader: Member, member_ids: set[int], key_sets: list[MemberKeys],
                       marks: dict[int, KeyVerification]) -> None:
    """What remember_keys_of keeps, as a caller read it within its own statement: every key set of these members
    (the reader among them), oldest first, and the reader's marks for them (by the member they name)."""
    lifecycle.remember_key_sets(key_sets, member_ids)
    found: dict = {other_id: None for other_id in member_ids - {reader.id}}
    found.update(marks)
    request_memo(MARKS_MEMO)[reader.id] = found


def changed_keys(reader: Member, conversation: Conversation, messages=None) -> list[Member]:
    """Participants whose key changed: since the reader verified it, or since the conversation began (a new key set
    after a password reset), unless the reader verified the new key. The reader should compare the number again.
    The reader's marks and the others' key sets are read in one statement each, however many take part. messages:
    the conversation's, as the page read them (services.conversation_messages), else conversation.messages."""
    others = [p.member for p in conversation.participants if p.member is not None and p.member.id != reader.id]
    if not others:
        return []
    ids = [other.id for other in others]
    marks = request_memo(MARKS_MEMO).get(reader.id)
    if marks is None or not set(ids) <= set(marks):
        marks = {mark.other_id: mark for mark in db.session.scalars(
            select(KeyVerification).where(KeyVerification.member_id == reader.id, KeyVerification.other_id.in_(ids)))}
    live: dict[int, MemberKeys] = {}
    for rows in lifecycle.key_sets_of(ids).values():
        for keys in rows:  # oldest first
            if keys.retired_at is None:
                live[keys.member_id] = keys  # the newest set not retired: lifecycle.current_keys
    changed = []
    for other in others:
        current = live.get(other.id)
        state = _status(marks.get(other.id), current)
        first = _first_key_version(conversation.messages if messages is None else messages, other)
        if state == CHANGED or (state != VERIFIED and current is not None and first is not None
                                and first != current.key_version):
            changed.append(other)
    return changed
