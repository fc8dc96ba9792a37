"""The life of a member's messaging keys: made at the first sign-in, unlocked at the password step and kept sealed
in the session, re-wrapped on password change, retired by a password reset, restored with the recovery key."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import defer

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.memo import request_memo, watch
from network.members.models import Member
from network.messaging import kept
from network.messaging.formats import (
    InvalidRecoveryKey,
    KeyUnlockError,
    MessagingCryptoError,
    SessionKeysUnavailable,
)
from network.messaging.keys import (
    MemberPrivateKeys,
    MemberPublicKeys,
    generate_member_keys,
    kdf_params_from_config,
    new_recovery_key,
    seal_for_session,
    session_key_from_token,
    unseal_from_session,
    unwrap_with_password,
    unwrap_with_recovery_key,
    wrap_private_keys,
    wrap_with_recovery_key,
)
from network.messaging.models import MemberKeys

SESSION_KEYS = "messaging_keys"  # the member's private keys, sealed under the session cookie's token
SESSION_RECOVERY_KEY = "messaging_recovery_key"  # a recovery key to show until the member confirms it
PENDING = "messaging_pending"  # between the password step and the second factor


class KeysError(DomainError):
    pass


# ---------------------------------------------------------------- key sets

# member id -> their key sets, for one request; forgotten as soon as a key set is added or changed in the session
KEY_SETS_MEMO = watch("messaging_key_sets", MemberKeys)


def key_sets(member: Member) -> list[MemberKeys]:
    """The member's key sets, oldest first: read once per request (several members' at once with
    remember_key_sets)."""
    memo = request_memo(KEY_SETS_MEMO)
    if member.id not in memo:
        memo[member.id] = list(db.session.scalars(
            select(MemberKeys).where(MemberKeys.member_id == member.id).order_by(MemberKeys.key_version)))
    return list(memo[member.id])


# The private keys' wraps (the larger part of a key set) are read only where a password or the recovery key opens or
# re-wraps them: pages that only read key sets (whose public keys, which version) leave them out.
WRAPS_DEFERRED = (defer(MemberKeys.password_wrapped), defer(MemberKeys.recovery_wrapped))


def key_sets_of(member_ids) -> dict[int, list[MemberKeys]]:
    """key_sets of several members: those not read yet in this request, in one statement."""
    memo = request_memo(KEY_SETS_MEMO)
    missing = {member_id for member_id in member_ids if member_id not in memo}
    if missing:
        remember_key_sets(list(db.session.scalars(select(MemberKeys).where(MemberKeys.member_id.in_(missing))
                                                  .options(*WRAPS_DEFERRED))), missing)
        memo = request_memo(KEY_SETS_MEMO)
    return {member_id: list(memo.get(member_id, [])) for member_id in member_ids}


def remember_key_sets(rows: list[MemberKeys], member_ids) -> None:
    """Every key set of these members, read by the caller in one statement (ordered by key version): what key_sets
    answers for them for the rest of the request."""
    memo = request_memo(KEY_SETS_MEMO)
    found: dict[int, list[MemberKeys]] = {member_id: [] for member_id in member_ids}
    for row in rows:
        if row.member_id in found and row not in found[row.member_id]:
            found[row.member_id].append(row)
    for member_id, rows_of in found.items():
        memo[member_id] = sorted(rows_of, key=lambda keys: keys.key_version)


def current_keys(member: Member) -> MemberKeys | None:
    """The key set others encrypt to: the newest one not retired."""
    live = [keys for keys in key_sets(member) if keys.retired_at is None]
    return live[-1] if live else None


def public_keys(keys: MemberKeys) -> MemberPublicKeys:
    return _parsed_public_keys(keys.public_keys)


@functools.lru_cache(maxsize=4096)
def _parsed_public_keys(stored: str) -> MemberPublicKeys:
    """Parsing checks every key (an ML-KEM-768 public key costs about half a millisecond); the result depends only on
    the stored text and is immutable, so each distinct record is parsed once per process."""
    return MemberPublicKeys.from_dict(json.loads(stored))


def _kdf():
    return kdf_params_from_config(current_app.config)


def create_key_set(member: Member, password: str) -> tuple[MemberKeys, MemberPrivateKeys, str]:
    """A new key set (the next key_version) wrapped under the password and a new recovery key to show once."""
    version = max((keys.key_version for keys in key_sets(member)), default=0) + 1
    public, private = generate_member_keys(key_version=version)
    params, allow_weak = _kdf()
    recovery_key = new_recovery_key()
    keys = MemberKeys(
        member_id=member.id, key_version=version, public_keys=json.dumps(public.to_dict()),
        password_wrapped=json.dumps(wrap_private_keys(private, password, params, member_id=member.id,
                                                      allow_weak=allow_weak)),
        recovery_wrapped=json.dumps(wrap_with_recovery_key(private, recovery_key, member_id=member.id)),
        created_at=utcnow(),
    )
    db.session.add(keys)
    db.session.flush()
    kept.PLAINTEXTS.forget_member(member.id)  # what this process kept opened for them: keys changed
    audit.record("messaging.keys_created", member, actor=member, key_version=version,
                 fingerprint=public.fingerprint)
    return keys, private, recovery_key


def _unwrap_all(member: Member, password: str) -> list[MemberPrivateKeys]:
    """Every key set this password opens; a set from before a password reset does not (the recovery key does)."""
    _params, allow_weak = _kdf()
    opened = []
    for keys in key_sets(member):
        try:
            opened.append(unwrap_with_password(keys.record("password_wrapped"), password, member_id=member.id,
                                               allow_weak=allow_weak))
        except KeyUnlockError:
            continue
    return opened


def current_private_with_password(member: Member, password: str) -> MemberPrivateKeys | None:
    """The current key set opened with the password, outside any session (the demo loader); None if it does not."""
    keys = current_keys(member)
    if keys is None:
        return None
    _params, allow_weak = _kdf()
    try:
        return unwrap_with_password(keys.record("password_wrapped"), password, member_id=member.id,
                                    allow_weak=allow_weak)
    except KeyUnlockError:
        return None


# ---------------------------------------------------------------- the session

def _session_key() -> bytes:
    token = getattr(session, "token", None)
    if not token:
        raise SessionKeysUnavailable("this session has no token yet")
    return session_key_from_token(token)


def _seal_all(member: Member, privates: list[MemberPrivateKeys]) -> list[dict]:
    key = _session_key()
    return [seal_for_session(private, key, member_id=member.id) for private in privates]


def _unseal_all(member: Member, sealed: list[dict]) -> list[MemberPrivateKeys]:
    key = _session_key()
    return [unseal_from_session(record, key, member_id=member.id) for record in sealed]


def unlock_at_password_step(member: Member, password: str) -> None:
    """At sign-in, once the password is right and the session has its new token: unwrap the member's keys (or
    make the first set) and keep them sealed in the pending session until the second factor passes."""
    privates = _unwrap_all(member, password)
    pending: dict = {}
    current = current_keys(member)
    if current is None:
        current, private, recovery_key = create_key_set(member, password)
        privates.append(private)
        pending["recovery_key"] = recovery_key
    elif current.recovery_confirmed_at is None:
        # The recovery key was never confirmed (the session that showed it ended): issue a new one.
        private = next((p for p in privates if p.key_version == current.key_version), None)
        if private is not None:
            pending["recovery_key"] = new_recovery_key()
            current.recovery_wrapped = json.dumps(wrap_with_recovery_key(private, pending["recovery_key"],
                                                                         member_id=member.id))
    pending["sealed"] = _seal_all(member, privates)
    session[PENDING] = pending


def carry_over(member: Member) -> dict:
    """Before the session is cleared at the end of sign-in: what the pending session held, unsealed."""
    pending = session.get(PENDING) or {}
    try:
        privates = _unseal_all(member, pending.get("sealed", []))
    except SessionKeysUnavailable:
        privates = []
    return {"privates": privates, "recovery_key": pending.get("recovery_key")}


def finish_sign_in(member: Member, carried: dict) -> None:
    """After session.regenerate(): seal the keys again under the new token, which is the only one that lives on."""
    session[SESSION_KEYS] = _seal_all(member, carried["privates"])
    if carried.get("recovery_key"):
        session[SESSION_RECOVERY_KEY] = carried["recovery_key"]


SESSION_KEYS_MEMO = "messaging_session_keys"  # member id -> (what was unsealed, the keys), for one request only


def session_private_keys(member: Member) -> dict[int, MemberPrivateKeys]:
    """key_version -> private keys, for this request only. SessionKeysUnavailable if the session holds none.
    Unsealed once per request (a page asks several times: the readiness check, the keyring, each receipt signed),
    again whenever the sealed records or the session's token change; the memo dies with the request."""
    sealed = session.get(SESSION_KEYS)
    if not sealed:
        raise SessionKeysUnavailable("no messaging keys in this session: sign in again")
    seen = (getattr(session, "token", None), json.dumps(sealed, sort_keys=True, default=str))
    memo = request_memo(SESSION_KEYS_MEMO)
    known = memo.get(member.id)
    if known is None or known[0] != seen:
        known = memo[member.id] = (seen, {private.key_version: private for private in _unseal_all(member, sealed)})
    return dict(known[1])  # the caller's own dict (restore_with_recovery_key adds to it)


def has_session_keys(member: Member) -> bool:
    try:
        return bool(session_private_keys(member))
    except SessionKeysUnavailable:
        return False


def current_private(member: Member) -> tuple[MemberKeys, MemberPrivateKeys]:
    current = current_keys(member)
    privates = session_private_keys(member)
    if current is None or current.key_version not in privates:
        raise SessionKeysUnavailable("the current keys are not unlocked in this session")
    return current, privates[current.key_version]


# ---------------------------------------------------------------- the recovery key

@dataclass(frozen=True)
class RecoveryKeyToShow:
    text: str
    groups: list[str]
    asked_group: int  # 1-based: the group the member types back


def recovery_key_to_show(member: Member) -> RecoveryKeyToShow | None:
    """The recovery key of the current set if the member has not confirmed it yet (a new one if this session
    lost it: the session's unlocked keys re-wrap it); None once confirmed."""
    current = current_keys(member)
    if current is None or current.recovery_confirmed_at is not None:
        return None
    text = session.get(SESSION_RECOVERY_KEY)
    if not text:
        _, private = current_private(member)
        text = new_recovery_key()
        current.recovery_wrapped = json.dumps(wrap_with_recovery_key(private, text, member_id=member.id))
        session[SESSION_RECOVERY_KEY] = text
    groups = text.split("-")
    return RecoveryKeyToShow(text=text, groups=groups, asked_group=len(groups))


def confirm_recovery_key(member: Member, typed_group: str) -> None:
    shown = recovery_key_to_show(member)
    if shown is None:
        return
    expected = shown.groups[shown.asked_group - 1]
    if "".join(typed_group.split()).upper() != expected:
        raise KeysError(_("That is not group %(n)d of your recovery key. Check what you wrote down.",
                          n=shown.asked_group), field="group")
    current_keys(member).recovery_confirmed_at = utcnow()
    session.pop(SESSION_RECOVERY_KEY, None)
    audit.record("messaging.recovery_key_confirmed", member, actor=member)


def restore_with_recovery_key(member: Member, recovery_key: str, password: str) -> list[int]:
    """Restore key sets from before a password reset: each one the recovery key opens is wrapped under the current
    password and unlocked in this session. Returns the key versions restored."""
    from network.members import passwords

    if not passwords.verify_password(member.password_hash, password):
        raise KeysError(_("Your password is not right."), field="password")
    unlocked = session_private_keys(member)
    params, allow_weak = _kdf()
    restored = []
    for keys in key_sets(member):
        if keys.key_version in unlocked:
            continue
        try:
            private = unwrap_with_recovery_key(keys.record("recovery_wrapped"), recovery_key, member_id=member.id)
        except InvalidRecoveryKey as error:
            if "typo" in str(error) or "letters" in str(error):
                raise KeysError(_("This recovery key has a typo: check each group."), field="recovery_key") from error
            continue
        except MessagingCryptoError:
            continue
        keys.password_wrapped = json.dumps(wrap_private_keys(private, password, params, member_id=member.id,
                                                             allow_weak=allow_weak))
        unlocked[private.key_version] = private
        restored.append(private.key_version)
    if not restored:
        raise KeysError(_("This recovery key does not open any of your earlier keys."), field="recovery_key")
    session[SESSION_KEYS] = _seal_all(member, list(unlocked.values()))
    kept.PLAINTEXTS.forget_member(member.id)
    audit.record("messaging.keys_restored", member, actor=member, key_versions=restored)
    return restored


# ---------------------------------------------------------------- password change and reset

def rewrap_for_new_password(member: Member, old_password: str, new_password: str) -> None:
    """Password change: every key set the old password opens is wrapped under the new one."""
    params, allow_weak = _kdf()
    for keys in key_sets(member):
        try:
            private = unwrap_with_password(keys.record("password_wrapped"), old_password, member_id=member.id,
                                           allow_weak=allow_weak)
        except KeyUnlockError:
            continue
        keys.password_wrapped = json.dumps(wrap_private_keys(private, new_password, params, member_id=member.id,
                                                             allow_weak=allow_weak))


def retire_on_reset(member: Member) -> None:
    """Password reset: the server cannot unwrap the keys without the old password, so the current set is retired.
    The next sign-in makes a new set; messages sent to the old one need the recovery key."""
    now = utcnow()
    kept.PLAINTEXTS.forget_member(member.id)
    for keys in key_sets(member):
        if keys.retired_at is None:
            keys.retired_at = now
