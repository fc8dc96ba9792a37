"""Authority mailboxes: the authority's key pair, granted member by member by those who already hold it, rotated
when a member is removed, so that an authority's correspondence outlives any one officer and only its holders read it.

Only present officers read a mailbox: a holder who leaves (suspended, lapsed, closed account, another authority)
stops reading it at once, and the remaining holders are told to remove them, which renews the key. When the last
present holder leaves, the mailbox is unattended: it takes no new messages (no one could read them) and the
authority's focal points are told to open it again, which makes a new key version for them. The earlier versions
stay with the officers who held them; one of those who comes back can be granted the new version and read both."""
from __future__ import annotations

import functools
import json

from flask import has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, case, func, select
from sqlalchemy.orm import aliased

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.memo import request_memo, watch
from network.directory.models import Authority
from network.members.models import Member
from network.messaging import kept, lifecycle
from network.messaging.formats import MessagingCryptoError, SessionKeysUnavailable, authority_slot
from network.messaging.keys import (
    AuthorityPrivateKey,
    AuthorityPublicKey,
    MemberPrivateKeys,
    generate_authority_keys,
    grant_authority_key,
    open_authority_grant,
)
from network.messaging.models import AuthorityKeyGrant, AuthorityMailboxKey, MemberKeys


class MailboxError(DomainError):
    pass


# ---------------------------------------------------------------- reading the state

KEY_MEMO = watch("messaging_current_mailbox_keys", AuthorityMailboxKey)  # authority id -> newest key, per request
HELD_MEMO = watch("messaging_held_authority_ids", AuthorityMailboxKey, AuthorityKeyGrant)  # (member, authority)


def current_key(authority_id: int) -> AuthorityMailboxKey | None:
    """The newest key version: what new messages to the mailbox are encrypted to (looked up once per request)."""
    memo = request_memo(KEY_MEMO)
    if authority_id not in memo:
        memo[authority_id] = db.session.scalar(
            select(AuthorityMailboxKey).where(AuthorityMailboxKey.authority_id == authority_id)
            .order_by(AuthorityMailboxKey.key_version.desc()).limit(1))
    return memo[authority_id]


def prefetch_current_keys(authority_ids: list[int]) -> dict[int, AuthorityMailboxKey | None]:
    """The newest key of each of these authorities in one statement, for a page that lists many; remembered for the
    request."""
    memo = request_memo(KEY_MEMO)
    wanted = {a for a in authority_ids if a not in memo}
    if not wanted:
        return {a: memo[a] for a in authority_ids}
    newest = (select(AuthorityMailboxKey.authority_id, func.max(AuthorityMailboxKey.key_version).label("v"))
              .where(AuthorityMailboxKey.authority_id.in_(wanted)).group_by(AuthorityMailboxKey.authority_id)
              .subquery())
    found = {key.authority_id: key for key in db.session.scalars(
        select(AuthorityMailboxKey).join(newest, (newest.c.authority_id == AuthorityMailboxKey.authority_id)
                                         & (newest.c.v == AuthorityMailboxKey.key_version)))}
    for authority_id in wanted:
        memo[authority_id] = found.get(authority_id)
    return {a: memo[a] for a in authority_ids}


STATE_MEMO = watch("messaging_mailbox_states", AuthorityMailboxKey, AuthorityKeyGrant, Member)  # authority id -> state


def state(authority: Authority | None) -> str:
    """'closed' (never opened), 'open' (a present officer reads it) or 'unattended' (every holder has left)."""
    if authority is None:
        return "closed"
    memo = request_memo(STATE_MEMO)
    if authority.id not in memo:  # a page that lists authorities asks for each: answer for all it has loaded
        loaded = [key[1][0] for key in list(db.session.identity_map.keys())  # keys: no expired object is loaded
                  if key[0] is Authority] if has_request_context() else []
        return _prefetch_states([authority.id, *loaded])[authority.id]
    return memo[authority.id]


def state_expression():
    """The mailbox state of `Authority.id` in SQL ('closed', 'open', 'unattended', as `state`), for a statement that
    reads authorities: the newest key version, and a live grant of it to a present officer (active, of the
    authority)."""
    key, grant, officer = aliased(AuthorityMailboxKey), aliased(AuthorityKeyGrant), aliased(Member)  # not the outer's
    newest = (select(func.max(key.key_version)).where(key.authority_id == Authority.id)
              .correlate(Authority).scalar_subquery())
    read = (select(grant.id).join(officer, officer.id == grant.member_id)
            .where(grant.authority_id == Authority.id, grant.key_version == newest, grant.removed_at.is_(None),
                   officer.status == "active", officer.authority_id == grant.authority_id)
            .correlate(Authority).exists())
    return case((newest.is_(None), "closed"), (read, "open"), else_="unattended")


@functools.cache
def _states_statement():
    """The states of the authorities `ids`: one statement object for the process (the ids bound per request)."""
    return select(Authority.id, state_expression()).where(Authority.id.in_(bindparam("ids", expanding=True)))


def remember_states(states: dict[int, str]) -> None:
    """States read with the authorities themselves (`state_expression` as a column): kept for the request."""
    request_memo(STATE_MEMO).update(states)


def _prefetch_states(authority_ids: list[int]) -> dict[int, str]:
    """The mailbox state of each of these authorities in one statement, not three per authority; remembered for the
    request."""
    memo = request_memo(STATE_MEMO)
    wanted = list(dict.fromkeys(a for a in authority_ids if a not in memo))
    found = dict(db.session.execute(_states_statement(), {"ids": wanted}).tuples().all()) if wanted else {}
    for authority_id in wanted:
        memo[authority_id] = found.get(authority_id, "closed")
    return memo


def has_mailbox(authority: Authority | None) -> bool:
    """Whether the mailbox takes messages: opened, and read by at least one present officer."""
    return state(authority) == "open"


def is_present(member: Member, authority_id: int) -> bool:
    """Still an active officer of the authority (one who leaves stops reading its mailbox at once)."""
    return member.status == "active" and member.authority_id == authority_id


def public_key(key: AuthorityMailboxKey) -> AuthorityPublicKey:
    public = AuthorityPublicKey.from_dict(key.record())
    if (public.authority_id, public.key_version) != (key.authority_id, key.key_version):
        raise MessagingCryptoError("the stored mailbox key names another authority or version")
    return public


def _live_grants(authority_id: int, member_id: int | None = None):
    query = select(AuthorityKeyGrant).where(AuthorityKeyGrant.authority_id == authority_id,
                                            AuthorityKeyGrant.removed_at.is_(None))
    if member_id is not None:
        query = query.where(AuthorityKeyGrant.member_id == member_id)
    return list(db.session.scalars(query.order_by(AuthorityKeyGrant.key_version, AuthorityKeyGrant.id)))


def holders(authority_id: int) -> list[Member]:
    """Members holding the current key version, those who have since left the authority included (the mailbox
    page lists them so that a remaining holder removes them)."""
    key = current_key(authority_id)
    if key is None:
        return []
    ids = {g.member_id for g in _live_grants(authority_id) if g.key_version == key.key_version}
    return list(db.session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.name))) if ids else []


def present_holders(authority_id: int) -> list[Member]:
    """The officers who read the mailbox now: holders of the current version still active in the authority."""
    return [m for m in holders(authority_id) if is_present(m, authority_id)]


def is_holder(member: Member, authority_id: int) -> bool:
    """Reads the mailbox now: a live grant of the current version, and still a present officer of the authority."""
    key = current_key(authority_id)
    return key is not None and is_present(member, authority_id) and any(
        g.key_version == key.key_version for g in _live_grants(authority_id, member.id))


def held_authority_ids(member: Member) -> set[int]:
    """Authorities whose mailbox the member reads: a live grant for the current key version, as a present officer
    (at most the member's own authority). Looked up once per request (a page asks for the inbox, the navigation's
    count and the keyring), and again after any grant changes."""
    if member.status != "active" or member.authority_id is None:
        return set()
    cache = request_memo(HELD_MEMO)
    key = (member.id, member.authority_id)
    if key not in cache:
        cache[key] = _held_authority_ids(member)
    return set(cache[key])


def held_authority_key(member: Member) -> tuple[int, int] | None:
    """What held_authority_ids keeps its answer under, or None when the member holds no mailbox without looking
    (not active, or of no authority)."""
    if member.status != "active" or member.authority_id is None:
        return None
    return member.id, member.authority_id


def remember_held(member: Member, authority_ids: set[int]) -> None:
    """held_authority_ids of the member as a caller read it (held_authority_query_of inside its own statement): what
    held_authority_ids answers for the rest of the request, until a grant or a mailbox key changes."""
    key = held_authority_key(member)
    if key is not None:
        request_memo(HELD_MEMO).setdefault(key, set(authority_ids))


def held_authority_query(member: Member):
    """held_authority_ids as a query, for a statement that needs it inside (the navigation's unread count): the
    caller checks first that the member is active and has an authority."""
    return held_authority_query_of(member.id, member.authority_id)


def held_authority_query_of(member_id, authority_id):
    """held_authority_query of a member given by id and authority id (values, or bound parameters)."""
    newest = (select(AuthorityMailboxKey.authority_id, func.max(AuthorityMailboxKey.key_version).label("v"))
              .group_by(AuthorityMailboxKey.authority_id).subquery())
    return (select(AuthorityKeyGrant.authority_id)
            .join(newest, (newest.c.authority_id == AuthorityKeyGrant.authority_id)
                  & (newest.c.v == AuthorityKeyGrant.key_version))
            .where(AuthorityKeyGrant.member_id == member_id, AuthorityKeyGrant.removed_at.is_(None),
                   AuthorityKeyGrant.authority_id == authority_id))


@functools.cache
def _held_statement():
    """held_authority_query with bound values, built once per process (its cache key too)."""
    return held_authority_query_of(bindparam("held_member", type_=Integer), bindparam("held_authority", type_=Integer))


def _held_authority_ids(member: Member) -> set[int]:
    return set(db.session.scalars(_held_statement(), {"held_member": member.id, "held_authority": member.authority_id}))


def can_open(member: Member, authority: Authority) -> bool:
    """The first holder: a focal point of the authority, while its mailbox is closed or unattended."""
    return (member.is_vetted and authority.id in member.focal_point_authority_ids()
            and is_present(member, authority.id) and state(authority) != "open")


def can_manage(member: Member, authority: Authority) -> bool:
    return is_holder(member, authority.id) or can_open(member, authority)


def candidates(authority: Authority) -> list[Member]:
    """Who can be granted the mailbox: active members of the authority with messaging keys who cannot open it with
    their present keys (never granted, or granted to a key set a password reset has since replaced)."""
    key = current_key(authority.id)
    present = set()
    for row in (_live_grants(authority.id) if key is not None else []):
        keys = lifecycle.current_keys(row.member) if row.key_version == key.key_version else None
        if keys is not None and keys.key_version == row.member_key_version:
            present.add(row.member_id)
    with_keys = select(MemberKeys.member_id).where(MemberKeys.retired_at.is_(None))
    return [m for m in db.session.scalars(
        select(Member).where(Member.authority_id == authority.id, Member.status == "active",
                             Member.id.in_(with_keys)).order_by(Member.name)) if m.id not in present]


# ---------------------------------------------------------------- unlocking in a session

def _granter_public(grant: AuthorityKeyGrant, record: dict):
    keys = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == record["granted_by"],
                                                      MemberKeys.key_version == record["granted_by_key_version"]))
    if keys is None or grant.granted_by_id != record["granted_by"]:
        raise MessagingCryptoError("the granter of this mailbox key is unknown")
    return lifecycle.public_keys(keys)


def authority_privates(member: Member, authority_id: int,
                       privates: dict[int, MemberPrivateKeys] | None = None) -> dict[int, AuthorityPrivateKey]:
    """key_version -> the authority's private key, for every version granted to the member and still live, opened
    with the member's session keys (each grant's signature checked against its granter's public keys)."""
    if privates is None:
        privates = lifecycle.session_private_keys(member)
    opened: dict[int, AuthorityPrivateKey] = {}
    for grant in _live_grants(authority_id, member.id):
        private = privates.get(grant.member_key_version)
        if private is None:
            continue
        record = grant.record()
        try:
            key = open_authority_grant(record, member_id=member.id, member_private=private,
                                       granter_public=_granter_public(grant, record))
        except MessagingCryptoError:
            continue  # a tampered grant opens nothing
        if key.authority_id == authority_id and key.key_version == grant.key_version:
            opened[key.key_version] = key
    return opened


def _store_grant(private: AuthorityPrivateKey, recipient: Member, granter: Member,
                 granter_private: MemberPrivateKeys) -> None:
    keys = lifecycle.current_keys(recipient)
    if keys is None:
        raise MailboxError(_("%(name)s has no messaging keys yet: they need to sign in once.", name=recipient.name))
    public = lifecycle.public_keys(keys)
    record = grant_authority_key(private, member_id=recipient.id, member_public=public, granted_by=granter.id,
                                 granter_private=granter_private)
    db.session.add(AuthorityKeyGrant(authority_id=private.authority_id, key_version=private.key_version,
                                     member_id=recipient.id, member_key_version=public.key_version,
                                     granted_by_id=granter.id, grant=json.dumps(record), created_at=utcnow()))


# ---------------------------------------------------------------- opening, granting, removing

def open_mailbox(member: Member, authority: Authority, *, private: MemberPrivateKeys | None = None
                 ) -> AuthorityMailboxKey:
    """A focal point makes the authority's key pair and is its first holder (from their own session, or with
    `private`, their current private keys unlocked otherwise): the first time, or again when every holder has left
    (a new key version; the earlier ones stay with those who held them)."""
    if not can_open(member, authority):
        raise MailboxError(_("Only a focal point of this authority can open its mailbox, and only while no officer "
                             "reads it."))
    if private is not None:
        member_private = private
    else:
        _current, member_private = lifecycle.current_private(member)
    previous = current_key(authority.id)
    departed = [m.id for m in holders(authority.id)]
    version = previous.key_version + 1 if previous is not None else 1
    public, authority_private = generate_authority_keys(authority.id, key_version=version)
    key = AuthorityMailboxKey(authority_id=authority.id, key_version=version, public_key=json.dumps(public.to_dict()),
                              created_by_id=member.id, created_at=utcnow())
    db.session.add(key)
    _store_grant(authority_private, member, member, member_private)
    db.session.flush()
    if previous is None:
        audit.record("messaging.mailbox_opened", authority, actor=member, fingerprint=public.fingerprint)
    else:
        audit.record("messaging.mailbox_reopened", authority, actor=member, key_version=version,
                     departed_holders=departed, fingerprint=public.fingerprint)
    return key


def _granter_keys(granter: Member, authority: Authority) -> tuple[MemberPrivateKeys, dict[int, AuthorityPrivateKey]]:
    """The granter's own keys and every mailbox version their session opens: the server alone cannot grant."""
    if not is_holder(granter, authority.id):
        raise MailboxError(_("Only a member who holds this mailbox can give others access to it."))
    try:
        _current, granter_private = lifecycle.current_private(granter)
        versions = authority_privates(granter, authority.id)
    except SessionKeysUnavailable as error:
        raise MailboxError(_("Your messaging keys are not unlocked in this session: sign in again.")) from error
    key = current_key(authority.id)
    if key is None or key.key_version not in versions:
        raise MailboxError(_("Your session cannot open this mailbox's key, so it cannot grant it."))
    return granter_private, versions


def grant(granter: Member, authority: Authority, recipient: Member) -> None:
    """Wrap every version of the mailbox key the granter holds for the recipient: the mailbox's past
    correspondence comes with it (institutional memory)."""
    granter_private, versions = _granter_keys(granter, authority)
    if recipient.id not in {m.id for m in candidates(authority)}:
        raise MailboxError(_("%(name)s cannot be given this mailbox: only active members of the authority with "
                             "messaging keys who do not hold it yet.", name=recipient.name))
    recipient_keys = lifecycle.current_keys(recipient)
    already = {g.key_version for g in _live_grants(authority.id, recipient.id)
               if g.member_key_version == recipient_keys.key_version}
    for private in versions.values():
        if private.key_version not in already:
            _store_grant(private, recipient, granter, granter_private)
    db.session.flush()
    audit.record("messaging.mailbox_granted", authority, actor=granter, member=recipient.id,
                 key_versions=sorted(versions))


def remove(remover: Member, authority: Authority, leaving: Member) -> int:
    """Take a member out of the mailbox and rotate its key: new messages go to a version the leaving member never
    holds; the remaining present holders keep the old versions and receive the new one (holders who have left the
    authority do not receive it either). Returns the new key version."""
    granter_private, _versions = _granter_keys(remover, authority)
    if leaving.id not in {m.id for m in holders(authority.id)}:
        raise MailboxError(_("%(name)s does not hold this mailbox.", name=leaving.name))
    remaining = [m for m in present_holders(authority.id) if m.id != leaving.id]
    if not remaining:
        raise MailboxError(_("The mailbox needs at least one holder: grant it to someone else first."))
    dropped = [m.id for m in holders(authority.id) if m.id != leaving.id and m not in remaining]
    now = utcnow()
    for old in _live_grants(authority.id, leaving.id):
        old.removed_at, old.removed_by_id = now, remover.id
    kept.PLAINTEXTS.forget_member(leaving.id)  # what this process kept opened for them
    new_version = current_key(authority.id).key_version + 1
    public, private = generate_authority_keys(authority.id, key_version=new_version)
    db.session.add(AuthorityMailboxKey(authority_id=authority.id, key_version=new_version,
                                       public_key=json.dumps(public.to_dict()), created_by_id=remover.id,
                                       created_at=now))
    for holder in remaining:
        _store_grant(private, holder, remover, granter_private)
    db.session.flush()
    audit.record("messaging.mailbox_removed", authority, actor=remover, member=leaving.id, key_version=new_version,
                 departed_holders=dropped, fingerprint=public.fingerprint)
    return new_version


def member_left(member: Member) -> None:
    """Called when a member stops being an active officer of an authority (suspended, lapsed, account closed). For
    the mailbox they held: tell the remaining holders to remove them (which renews the key), or, if none remains,
    tell the authority's focal points that the mailbox is unattended and can be opened again."""
    kept.PLAINTEXTS.forget_member(member.id)
    from network.core.mail import queue_mail
    from network.members.services import focal_points_of

    authority_id = member.authority_id
    if authority_id is None or member.id not in {m.id for m in holders(authority_id)}:
        return
    authority = db.session.get(Authority, authority_id)
    remaining = present_holders(authority_id)
    link = url_for("messages.mailbox", key=authority.key, _external=True)
    if remaining:
        for holder in remaining:
            queue_mail(holder.email, _l("%(name)s no longer reads the mailbox of %(authority)s", name=member.name,
                                       authority=authority.name),
                       "messaging/holder_left", recipient=holder, leaving=member, authority=authority, link=link)
    else:
        for focal in focal_points_of(authority_id):
            if focal.id != member.id and is_present(focal, authority_id):
                queue_mail(focal.email, _l("The mailbox of %(authority)s is unattended", authority=authority.name),
                           "messaging/mailbox_unattended", recipient=focal, leaving=member, authority=authority,
                           link=link)
    audit.record("messaging.mailbox_holder_left", authority, member=member.id, remaining=len(remaining))


def slot_of(authority: Authority) -> str:
    return authority_slot(authority.id)
