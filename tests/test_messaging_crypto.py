"""The cryptographic core of encrypted messaging: keys, envelopes, attachments, receipts, bundles (issue 7)."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import time

import pytest
from flask import Flask

from network.messaging import (
    DEFAULT_KDF,
    BadSignature,
    ContentTampered,
    ContextMismatch,
    Envelope,
    InvalidRecoveryKey,
    KdfParams,
    MalformedRecord,
    MemberPrivateKeys,
    MessagingCryptoError,
    NotARecipient,
    ReceiptInvalid,
    SessionKeysUnavailable,
    StreamTampered,
    UnsupportedFormat,
    WeakKdfParameters,
    WrongPassword,
    WrongRecipientKey,
    decrypt_stream,
    dump_bundle,
    encrypt_message,
    encrypt_stream,
    export_bundle,
    generate_authority_keys,
    generate_member_keys,
    grant_authority_key,
    kdf_params_from_config,
    new_recovery_key,
    open_authority_grant,
    open_message,
    open_with_content_key,
    parse_recovery_key,
    rewrap,
    rotate_authority_keys,
    safety_number,
    seal_for_session,
    session_key_from_token,
    sign_receipt,
    unseal_from_session,
    unwrap_with_password,
    unwrap_with_recovery_key,
    verify_bundle,
    verify_bundle_bytes,
    verify_envelope,
    verify_receipt,
    wrap_private_keys,
    wrap_with_recovery_key,
)
from network.messaging import envelope as envelope_module
from network.messaging.cli import register_messaging_commands
from network.messaging.envelope import Wrap, _seal_content, _sign
from network.messaging.formats import b64d, b64e
from network.messaging.keys import format_recovery_key

FAST = KdfParams(time_cost=1, memory_cost=8, parallelism=1)  # tests only (allow_weak=True)
CANARY = b"CANARY-7f3a9c-extradition-request-text"


@dataclasses.dataclass
class Member:
    slot: str
    id: int
    public: object
    private: MemberPrivateKeys


def _member(number: int) -> Member:
    public, private = generate_member_keys()
    return Member(f"member:{number}", number, public, private)


@pytest.fixture(scope="module")
def alice() -> Member:
    return _member(1)


@pytest.fixture(scope="module")
def bob() -> Member:
    return _member(2)


@pytest.fixture(scope="module")
def carol() -> Member:
    return _member(3)


def _header(message_id: str = "msg-1", conversation_id: str = "conv-1", **changes) -> dict:
    return {"message_id": message_id, "conversation_id": conversation_id, "sent_at": "2025-05-01T09:30:00Z",
            "handling": {"confidential": True, "limited_use": True}, "urgent": False} | changes


@pytest.fixture(scope="module")
def envelope(alice, bob, carol) -> Envelope:
    return encrypt_message(_header(), CANARY, alice.slot, alice.private, {bob.slot: bob.public, carol.slot: carol.public})


def _rejected(call) -> bool:
    try:
        call()
    except MessagingCryptoError:
        return True
    return False


def _resign(env: Envelope, sender: Member, **changes) -> Envelope:
    """What an attacker holding the sender's signing key (or a bypassed signature check) could produce."""
    return _sign(dataclasses.replace(env, **changes), sender.private)


# --- round trips -----------------------------------------------------------------------------------------


def test_every_recipient_and_the_sender_open_the_same_body(envelope, alice, bob, carol):
    for member in (alice, bob, carol):
        opened = open_message(envelope.to_bytes(), member.slot, member.private, alice.public)
        assert opened.body == CANARY
        assert opened.header["recipients"] == [bob.slot, carol.slot]
        assert opened.header["handling"] == {"confidential": True, "limited_use": True}


def test_a_group_of_fifty_round_trips(alice):
    group = [_member(100 + n) for n in range(49)]
    started = time.perf_counter()
    env = encrypt_message(_header("msg-group"), b"to the group", alice.slot, alice.private,
                          {m.slot: m.public for m in group})
    elapsed = time.perf_counter() - started
    assert len(env.wraps) == 50
    for member in (group[0], group[-1]):
        assert open_message(env, member.slot, member.private, alice.public).body == b"to the group"
    print(f"\n  encrypt for 49 recipients + sender copy: {elapsed * 1000:.1f} ms")


def test_envelope_survives_serialisation_exactly(envelope):
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert Envelope.from_dict(json.loads(json.dumps(envelope.to_dict()))) == envelope


def test_the_plaintext_never_appears_in_the_envelope(envelope):
    data = envelope.to_bytes()
    for needle in (CANARY, CANARY[5:20], base64.b64encode(CANARY), b64e(CANARY).encode(), CANARY.hex().encode()):
        assert needle not in data


def test_authority_mailbox_reply_names_the_authority_and_the_writer(alice, bob):
    authority_public, authority_private = generate_authority_keys(7)
    env = encrypt_message(_header("msg-mailbox", on_behalf_of="authority:9"), b"reply", alice.slot, alice.private,
                          {"authority:7": authority_public})
    opened = open_message(env, "authority:7", authority_private, alice.public)
    assert opened.body == b"reply" and opened.header["on_behalf_of"] == "authority:9"
    assert opened.header["sender"] == alice.slot


# --- tamper detection ------------------------------------------------------------------------------------


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def _spread(total_bits: int, count: int) -> list[int]:
    if total_bits <= count:
        return list(range(total_bits))
    return sorted({(i * total_bits) // count + (i % 8) for i in range(count)} - {total_bits})


def test_single_bit_flips_anywhere_are_all_rejected(envelope, bob, alice):
    """>= 3,000 single-bit flips over the stored bytes and every binary field; 100% rejected."""
    tried = rejected = 0
    started = time.perf_counter()

    def attempt(candidate) -> None:
        nonlocal tried, rejected
        tried += 1
        rejected += _rejected(lambda: open_message(candidate, bob.slot, bob.private, alice.public))

    stored = envelope.to_bytes()
    for bit in _spread(len(stored) * 8, 1500):  # the serialised record: JSON structure, base64, header
        attempt(_flip(stored, bit))
    for name in ("nonce", "ct", "commit", "sig"):  # every bit of the small fields
        value = getattr(envelope, name)
        for bit in range(len(value) * 8):
            attempt(dataclasses.replace(envelope, **{name: _flip(value, bit)}))
    for index, wrap in enumerate(envelope.wraps):  # spread over each wrapped key (1,168 bytes)
        for bit in _spread(len(wrap.enc) * 8, 250):
            wraps = list(envelope.wraps)
            wraps[index] = dataclasses.replace(wrap, enc=_flip(wrap.enc, bit))
            attempt(dataclasses.replace(envelope, wraps=tuple(wraps)))
    elapsed = time.perf_counter() - started
    print(f"\n  bit flips: {tried} tried, {rejected} rejected in {elapsed:.2f} s")
    assert tried >= 3000
    assert rejected == tried


def test_binary_field_flips_fail_at_the_signature_before_any_decryption(envelope, bob, alice, monkeypatch):
    calls = []

    class CountingSuite:
        def __init__(self, suite):
            self.suite = suite

        def decrypt(self, *args, **kwargs):
            calls.append(1)
            return self.suite.decrypt(*args, **kwargs)

    monkeypatch.setitem(envelope_module.HPKE_SUITES, envelope_module.SUITE_MESSAGE,
                        CountingSuite(envelope_module.HPKE_SUITES[envelope_module.SUITE_MESSAGE]))
    wraps = list(envelope.wraps)
    wraps[1] = dataclasses.replace(wraps[1], enc=_flip(wraps[1].enc, 4000))
    for candidate in (dataclasses.replace(envelope, ct=_flip(envelope.ct, 3)),
                      dataclasses.replace(envelope, nonce=_flip(envelope.nonce, 3)),
                      dataclasses.replace(envelope, wraps=tuple(wraps))):
        with pytest.raises(BadSignature):
            open_message(candidate, bob.slot, bob.private, alice.public)
    assert calls == []


@pytest.mark.parametrize("edit", [
    {"message_id": "msg-2"}, {"conversation_id": "conv-2"}, {"sent_at": "2025-05-01T09:30:01Z"},
    {"handling": {"confidential": False, "limited_use": True}}, {"handling": {"confidential": True, "limited_use": False}},
    {"urgent": True}, {"sender_key_version": 2}, {"in_reply_to": "msg-0"}, {"on_behalf_of": "authority:1"},
])
def test_header_edits_are_rejected(envelope, bob, alice, edit):
    edited = dataclasses.replace(envelope, header=envelope.header | edit)
    with pytest.raises(MessagingCryptoError):
        open_message(edited, bob.slot, bob.private, alice.public)


def test_recipient_list_edits_are_rejected(envelope, bob, alice, carol):
    record = envelope.to_dict()
    record["header"]["recipients"] = [bob.slot]  # drop carol
    record["wraps"] = [w for w in record["wraps"] if w["slot"] != carol.slot]
    with pytest.raises(BadSignature):
        open_message(record, bob.slot, bob.private, alice.public)
    record = envelope.to_dict()
    record["header"]["recipients"] = [bob.slot, carol.slot, "member:99"]  # claim an extra addressee
    with pytest.raises(MalformedRecord):
        open_message(record, bob.slot, bob.private, alice.public)


def test_unknown_fields_non_canonical_spelling_and_unknown_versions_are_refused(envelope, bob, alice):
    record = envelope.to_dict()
    with pytest.raises(MalformedRecord):
        Envelope.from_dict(record | {"extra": 1})
    with pytest.raises(MalformedRecord):
        Envelope.from_bytes(json.dumps(record, indent=1).encode())
    with pytest.raises(UnsupportedFormat, match="version 2"):
        Envelope.from_dict(record | {"v": 2})
    with pytest.raises(UnsupportedFormat, match="suite"):
        Envelope.from_dict(record | {"suite": "RSA-1024"})
    wrapped = dict(record, wraps=[dict(record["wraps"][0], suite="X25519-ONLY")] + record["wraps"][1:])
    with pytest.raises(UnsupportedFormat):
        Envelope.from_dict(wrapped)
    with pytest.raises(UnsupportedFormat):
        Envelope.from_dict(dict(record, header=record["header"] | {"v": 9}))


def test_wrong_recipient_key_and_non_recipient_are_refused(envelope, alice, bob, carol):
    with pytest.raises(WrongRecipientKey):
        open_message(envelope, bob.slot, carol.private, alice.public)
    outsider = _member(4)
    with pytest.raises(NotARecipient):
        open_message(envelope, outsider.slot, outsider.private, alice.public)
    with pytest.raises(WrongRecipientKey):  # a key of another version
        open_message(envelope, bob.slot, dataclasses.replace(bob.private, key_version=2), alice.public)


def test_wrong_sender_key_is_refused(envelope, bob, carol):
    with pytest.raises(BadSignature):
        open_message(envelope, bob.slot, bob.private, carol.public)


def test_a_wrap_copied_to_another_slot_does_not_open_even_if_re_signed(alice, bob, carol):
    """The HPKE info binds the slot: relabelling bob's wrap as carol's fails although bob's key is right."""
    env = encrypt_message(_header("msg-copy"), b"x", alice.slot, alice.private, {bob.slot: bob.public, carol.slot: carol.public})
    bob_wrap = env.wrap_for(bob.slot)
    wraps = tuple(dataclasses.replace(bob_wrap, slot=carol.slot) if w.slot == carol.slot else w for w in env.wraps)
    with pytest.raises(BadSignature):
        open_message(dataclasses.replace(env, wraps=wraps), carol.slot, bob.private, alice.public)
    forged = _resign(env, alice, wraps=wraps)
    with pytest.raises(WrongRecipientKey):
        open_message(forged, carol.slot, bob.private, alice.public)


def test_a_wrap_moved_to_another_message_does_not_open_even_if_re_signed(alice, bob):
    first = encrypt_message(_header("msg-a"), b"first", alice.slot, alice.private, {bob.slot: bob.public})
    second = encrypt_message(_header("msg-b"), b"second", alice.slot, alice.private, {bob.slot: bob.public})
    wraps = tuple(first.wrap_for(w.slot) for w in second.wraps)
    with pytest.raises(BadSignature):
        open_message(dataclasses.replace(second, wraps=wraps), bob.slot, bob.private, alice.public)
    forged = _resign(second, alice, wraps=wraps, ct=first.ct, nonce=first.nonce, commit=first.commit)
    with pytest.raises(WrongRecipientKey):
        open_message(forged, bob.slot, bob.private, alice.public)


def test_a_replayed_message_is_refused_in_another_place(envelope, alice, bob):
    open_message(envelope, bob.slot, bob.private, alice.public, expected_message_id="msg-1",
                 expected_conversation_id="conv-1")
    with pytest.raises(ContextMismatch):
        open_message(envelope, bob.slot, bob.private, alice.public, expected_conversation_id="conv-2")
    with pytest.raises(ContextMismatch):
        open_message(envelope, bob.slot, bob.private, alice.public, expected_message_id="msg-9")


def test_a_ciphertext_under_another_key_fails_the_key_commitment(envelope, alice):
    verify_envelope(envelope, alice.public)
    with pytest.raises(ContentTampered):
        open_with_content_key(envelope, os.urandom(32))


def test_content_nonces_and_keys_never_repeat_over_100000_encryptions():
    started = time.perf_counter()
    nonces, keys = set(), set()
    for _ in range(100_000):
        key, nonce, _ct = _seal_content(b"hello", b"aad")
        nonces.add(nonce)
        keys.add(key)
    elapsed = time.perf_counter() - started
    print(f"\n  100,000 content encryptions in {elapsed:.2f} s: {len(nonces)} distinct nonces, {len(keys)} distinct keys")
    assert len(nonces) == len(keys) == 100_000


# --- private key storage ---------------------------------------------------------------------------------


def test_password_wrap_round_trip_records_its_parameters(alice):
    record = wrap_private_keys(alice.private, "correct horse battery staple", FAST, member_id=1, allow_weak=True)
    assert {"v", "suite", "purpose", "member", "key_version", "kdf", "nonce", "ct"} <= set(record)
    assert record["kdf"] | {"salt": None} == {"name": "argon2id", "t": 1, "m": 8, "p": 1, "salt": None}
    assert len(base64.urlsafe_b64decode(record["kdf"]["salt"] + "==")) == 16
    unwrapped = unwrap_with_password(record, "correct horse battery staple", member_id=1, allow_weak=True)
    assert unwrapped == alice.private


def test_default_argon2id_parameters_meet_the_minimum_and_are_used(alice):
    assert (DEFAULT_KDF.time_cost, DEFAULT_KDF.memory_cost, DEFAULT_KDF.parallelism) == (3, 65536, 4)
    DEFAULT_KDF.check()
    record = wrap_private_keys(alice.private, "a long pass phrase here", member_id=1)
    assert (record["kdf"]["t"], record["kdf"]["m"], record["kdf"]["p"]) == (3, 65536, 4)
    assert unwrap_with_password(record, "a long pass phrase here", member_id=1) == alice.private


def test_wrong_passwords_are_all_rejected(alice):
    record = wrap_private_keys(alice.private, "the right password", FAST, member_id=1, allow_weak=True)
    failures = 0
    for n in range(100):
        with pytest.raises(WrongPassword):
            unwrap_with_password(record, f"the right password{n}", member_id=1, allow_weak=True)
        failures += 1
    assert failures == 100
    with pytest.raises(WrongPassword):
        unwrap_with_password(record, "the right passwor", member_id=1, allow_weak=True)


def test_weak_argon2_parameters_are_refused_outside_tests(alice):
    with pytest.raises(WeakKdfParameters):
        wrap_private_keys(alice.private, "pw", FAST, member_id=1)
    record = wrap_private_keys(alice.private, "pw", FAST, member_id=1, allow_weak=True)
    with pytest.raises(WeakKdfParameters):
        unwrap_with_password(record, "pw", member_id=1)  # a planted record with weak parameters
    KdfParams(2, 19456, 1).check()
    with pytest.raises(WeakKdfParameters):
        KdfParams(2, 19455, 1).check()
    with pytest.raises(WeakKdfParameters):  # absurd stored cost is refused rather than run
        KdfParams(3, 4 * 1024 * 1024, 4).check()
    assert kdf_params_from_config({"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 19456, "ARGON2_PARALLELISM": 1,
                                   "TESTING": False}) == (KdfParams(2, 19456, 1), False)
    assert kdf_params_from_config({"MESSAGING_ARGON2_TIME_COST": 4, "TESTING": True})[0].time_cost == 4


def test_wrapped_keys_are_bound_to_member_and_purpose(alice):
    record = wrap_private_keys(alice.private, "pw", FAST, member_id=1, allow_weak=True)
    with pytest.raises(MalformedRecord):
        unwrap_with_password(record, "pw", member_id=2, allow_weak=True)
    with pytest.raises(WrongPassword):  # the member id is authenticated, not just compared
        unwrap_with_password(record | {"member": 2}, "pw", member_id=2, allow_weak=True)
    with pytest.raises(WrongPassword):  # so are the parameters
        unwrap_with_password(record | {"kdf": record["kdf"] | {"t": 2}}, "pw", member_id=1, allow_weak=True)
    with pytest.raises(UnsupportedFormat):
        unwrap_with_password(record | {"v": 2}, "pw", member_id=1, allow_weak=True)


def test_password_change_rewraps_the_same_keys(alice):
    record = wrap_private_keys(alice.private, "old password", FAST, member_id=1, allow_weak=True)
    changed = rewrap(record, "old password", "new password", FAST, member_id=1, allow_weak=True)
    assert changed["kdf"]["salt"] != record["kdf"]["salt"]
    assert unwrap_with_password(changed, "new password", member_id=1, allow_weak=True) == alice.private
    with pytest.raises(WrongPassword):
        unwrap_with_password(changed, "old password", member_id=1, allow_weak=True)
    with pytest.raises(WrongPassword):
        rewrap(record, "not the old one", "new password", FAST, member_id=1, allow_weak=True)


def test_recovery_key_round_trip(alice):
    recovery = new_recovery_key()
    groups = recovery.split("-")
    assert len(groups) == 8 and all(len(group) == 7 for group in groups)
    record = wrap_with_recovery_key(alice.private, recovery, member_id=1)
    assert record["v"] == 1 and record["purpose"] == "recovery"
    assert unwrap_with_recovery_key(record, recovery, member_id=1) == alice.private
    spoken = " ".join(groups).lower()  # as read aloud or written down
    assert unwrap_with_recovery_key(record, spoken, member_id=1) == alice.private
    with pytest.raises(InvalidRecoveryKey, match="does not unlock"):
        unwrap_with_recovery_key(record, new_recovery_key(), member_id=1)


def test_every_single_character_typo_in_a_recovery_key_is_detected():
    recovery = format_recovery_key(bytes(range(32)))  # a fixed key: the test is deterministic
    compact = recovery.replace("-", "")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    typos = 0
    for position, original in enumerate(compact):
        for replacement in alphabet:
            if replacement == original:
                continue
            with pytest.raises(InvalidRecoveryKey):
                parse_recovery_key(compact[:position] + replacement + compact[position + 1:])
            typos += 1
    for position in range(len(compact) - 1):  # swapped neighbours
        swapped = compact[:position] + compact[position + 1] + compact[position] + compact[position + 2:]
        if swapped != compact:
            with pytest.raises(InvalidRecoveryKey):
                parse_recovery_key(swapped)
            typos += 1
    for wrong_length in (compact[:-1], compact + "A"):
        with pytest.raises(InvalidRecoveryKey):
            parse_recovery_key(wrong_length)
    assert typos > 1700
    assert parse_recovery_key(recovery) == bytes(range(32))


def test_session_sealed_keys_open_only_with_that_sessions_cookie(alice):
    token = "cookie-token-" + "x" * 30
    record = seal_for_session(alice.private, session_key_from_token(token), member_id=1)
    assert record["v"] == 1 and record["purpose"] == "session"
    assert unseal_from_session(record, session_key_from_token(token), member_id=1) == alice.private
    with pytest.raises(SessionKeysUnavailable):
        unseal_from_session(record, session_key_from_token(token + "y"), member_id=1)
    with pytest.raises(SessionKeysUnavailable):
        unseal_from_session(record, session_key_from_token(token), member_id=2)
    tampered = record | {"ct": record["ct"][:-2] + ("A" if record["ct"][-2] != "A" else "B") + record["ct"][-1]}
    with pytest.raises(SessionKeysUnavailable):
        unseal_from_session(tampered, session_key_from_token(token), member_id=1)
    from network.core.sessions import _data_key

    assert session_key_from_token(token) != _data_key(token)  # independent of the session-data key


def test_private_keys_never_show_in_repr(alice):
    text = repr(alice.private) + repr(alice.public)
    assert alice.private.ed25519.hex() not in text and "ed25519=" not in text


# --- authority mailboxes ---------------------------------------------------------------------------------


def test_authority_key_is_granted_by_a_holder_and_rotated_on_removal(alice, bob, carol):
    public_v1, private_v1 = generate_authority_keys(7)
    grants = {m.id: grant_authority_key(private_v1, member_id=m.id, member_public=m.public, granted_by=alice.id,
                                        granter_private=alice.private) for m in (alice, bob, carol)}
    assert grants[2]["v"] == 1 and grants[2]["key_version"] == 1 and grants[2]["suite"]
    old = encrypt_message(_header("msg-old"), b"before", alice.slot, alice.private, {"authority:7": public_v1})
    carol_v1 = open_authority_grant(grants[3], member_id=3, member_private=carol.private, granter_public=alice.public)
    assert open_message(old, "authority:7", carol_v1, alice.public).body == b"before"

    with pytest.raises(WrongRecipientKey):  # a grant is for its member only
        open_authority_grant(grants[2], member_id=3, member_private=carol.private)
    with pytest.raises(WrongRecipientKey):  # even if relabelled
        open_authority_grant(grants[2] | {"member": 3}, member_id=3, member_private=carol.private)
    with pytest.raises(BadSignature):  # a grant the holder did not sign
        open_authority_grant(grants[2] | {"granted_by": 3}, member_id=2, member_private=bob.private,
                             granter_public=alice.public)

    # carol leaves: a new key version for new messages, granted to those who remain
    public_v2, _private_v2, new_grants = rotate_authority_keys(7, 1, {1: alice.public, 2: bob.public},
                                                               granted_by=alice.id, granter_private=alice.private)
    assert public_v2.key_version == 2 and set(new_grants) == {1, 2}
    new = encrypt_message(_header("msg-new"), b"after", alice.slot, alice.private, {"authority:7": public_v2})
    bob_keys = {grant["key_version"]: open_authority_grant(grant, member_id=2, member_private=bob.private,
                                                           granter_public=alice.public)
                for grant in (grants[2], new_grants[2])}
    assert open_message(old, "authority:7", bob_keys, alice.public).body == b"before"
    assert open_message(new, "authority:7", bob_keys, alice.public).body == b"after"
    with pytest.raises(WrongRecipientKey):
        open_message(new, "authority:7", {1: carol_v1}, alice.public)


# --- attachments -----------------------------------------------------------------------------------------


def test_a_25_megabyte_attachment_round_trips_through_a_message(alice, bob):
    data = os.urandom(25 * 1024 * 1024)
    started = time.perf_counter()
    sealed = io.BytesIO()
    file_key, stream_header = encrypt_stream(io.BytesIO(data), sealed, file_id="file-1")
    encrypted = time.perf_counter()
    env = encrypt_message(_header("msg-file"), b"see attached", alice.slot, alice.private, {bob.slot: bob.public},
                          attachments=[(stream_header, file_key)])
    opened = open_message(env, bob.slot, bob.private, alice.public)
    out = io.BytesIO()
    size = decrypt_stream(io.BytesIO(sealed.getvalue()), out, opened.file_keys["file-1"], opened.attachments[0])
    done = time.perf_counter()
    assert size == len(data) and out.getvalue() == data
    assert stream_header["chunks"] == 400 and len(sealed.getvalue()) == len(data) + 400 * 16
    print(f"\n  25 MiB: encrypt {encrypted - started:.2f} s, decrypt {done - encrypted:.2f} s")


@pytest.fixture(scope="module")
def small_stream():
    data = os.urandom(5 * 1024 + 100)  # six 1 KiB chunks, the last one short
    sealed = io.BytesIO()
    key, header = encrypt_stream(io.BytesIO(data), sealed, file_id="file-s", chunk_size=1024)
    return data, sealed.getvalue(), key, header


def _decrypt(sealed: bytes, key: bytes, header: dict) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(sealed), out, key, header)
    return out.getvalue()


def test_stream_truncation_reordering_and_extension_are_detected(small_stream):
    data, sealed, key, header = small_stream
    assert header["chunks"] == 6 and _decrypt(sealed, key, header) == data
    chunk = 1024 + 16
    parts = [sealed[i:i + chunk] for i in range(0, len(sealed), chunk)]
    shorter = header | {"size": 4 * 1024, "chunks": 4}  # even with a header rewritten to match
    attacks = {
        "truncated at a chunk boundary": (b"".join(parts[:4]), header),
        "truncated, header adjusted": (b"".join(parts[:4]), shorter),
        "truncated mid-chunk": (sealed[:-10], header),
        "last chunk dropped": (b"".join(parts[:-1]), header),
        "chunks swapped": (b"".join([parts[1], parts[0], *parts[2:]]), header),
        "chunk duplicated": (b"".join([parts[0], parts[0], *parts[2:]]), header),
        "extended by a byte": (sealed + b"\x00", header),
        "extended by a chunk": (sealed + parts[0], header),
        "empty": (b"", header),
    }
    for bit in _spread(len(sealed) * 8, 300):
        attacks[f"bit {bit}"] = (_flip(sealed, bit), header)
    for name, (candidate, candidate_header) in attacks.items():
        with pytest.raises(StreamTampered):
            _decrypt(candidate, key, candidate_header)
            pytest.fail(name)
    with pytest.raises(StreamTampered):
        _decrypt(sealed, os.urandom(32), header)
    with pytest.raises(StreamTampered):  # another file's prefix
        _decrypt(sealed, key, header | {"prefix": b64e(os.urandom(8))})
    with pytest.raises(MalformedRecord):
        _decrypt(sealed, key, header | {"chunks": 5})


def test_empty_and_exact_multiple_files_round_trip():
    for data in (b"", os.urandom(2048)):
        sealed = io.BytesIO()
        key, header = encrypt_stream(io.BytesIO(data), sealed, file_id="f", chunk_size=1024)
        assert header["chunks"] == max(1, len(data) // 1024)
        assert _decrypt(sealed.getvalue(), key, header) == data


def test_attachment_keys_cannot_be_swapped_between_files(alice, bob):
    streams = []
    for file_id in ("file-a", "file-b"):
        sealed = io.BytesIO()
        key, header = encrypt_stream(io.BytesIO(file_id.encode() * 100), sealed, file_id=file_id, chunk_size=1024)
        streams.append((header, key))
    env = encrypt_message(_header("msg-two-files"), b"two", alice.slot, alice.private, {bob.slot: bob.public},
                          attachments=streams)
    wraps = tuple(dataclasses.replace(w, files=(w.files[1], w.files[0])) for w in env.wraps)
    with pytest.raises(MalformedRecord):  # file order must match the signed header
        open_message(dataclasses.replace(env, wraps=wraps), bob.slot, bob.private, alice.public)
    relabelled = tuple(dataclasses.replace(w, files=((w.files[0][0], w.files[1][1]), w.files[1])) for w in env.wraps)
    with pytest.raises(WrongRecipientKey):  # the file id is bound in the HPKE info
        open_message(_resign(env, alice, wraps=relabelled), bob.slot, bob.private, alice.public)


# --- receipts --------------------------------------------------------------------------------------------


def test_receipts_verify_and_any_change_is_rejected(envelope, alice, bob):
    receipt = sign_receipt("read", "msg-1", envelope.digest(), bob.slot, "2025-05-01T10:00:00Z", bob.private)
    assert {"v", "suite", "key_version", "sig"} <= set(receipt)
    verify_receipt(receipt, bob.public, message_id="msg-1", envelope_digest=envelope.digest(), recipient=bob.slot)
    edits = [{"kind": "delivered"}, {"message_id": "msg-2"}, {"recipient": "member:3"}, {"at": "2025-05-01T10:00:01Z"},
             {"envelope_digest": b64e(hashlib.sha256(b"other").digest())}, {"on_behalf_of": "authority:1"}]
    for edit in edits:
        with pytest.raises(ReceiptInvalid):
            verify_receipt(receipt | edit, bob.public)
    signature = base64.urlsafe_b64decode(receipt["sig"] + "==")
    for bit in range(0, 512, 7):
        with pytest.raises(ReceiptInvalid):
            verify_receipt(receipt | {"sig": b64e(_flip(signature, bit))}, bob.public)
    with pytest.raises(ReceiptInvalid):
        verify_receipt(receipt, alice.public)  # not bob's signature
    with pytest.raises(ReceiptInvalid):
        verify_receipt(receipt, bob.public, message_id="msg-9")
    with pytest.raises(ReceiptInvalid):
        verify_receipt(receipt | {"v": 2}, bob.public)
    with pytest.raises(ValueError):
        sign_receipt("forwarded", "msg-1", envelope.digest(), bob.slot, "2025-05-01T10:00:00Z", bob.private)


# --- export bundles --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(envelope, alice, bob, carol) -> dict:
    reply = encrypt_message(_header("msg-2", in_reply_to="msg-1", urgent=True), b"Received, thank you.", bob.slot,
                            bob.private, {alice.slot: alice.public, carol.slot: carol.public})
    opened = [open_message(envelope, bob.slot, bob.private, alice.public),
              open_message(reply, bob.slot, bob.private, bob.public)]
    receipts = [
        sign_receipt("delivered", "msg-1", envelope.digest(), bob.slot, "2025-05-01T09:31:00Z", bob.private),
        sign_receipt("read", "msg-1", envelope.digest(), bob.slot, "2025-05-01T09:40:00Z", bob.private),
        sign_receipt("read", "msg-2", reply.digest(), alice.slot, "2025-05-01T10:00:00Z", alice.private),
    ]
    return export_bundle([(envelope, opened[0]), (reply, opened[1])], receipts,
                         {alice.slot: alice.public, bob.slot: bob.public}, conversation_id="conv-1",
                         exporter_slot=bob.slot, exporter_private=bob.private, exported_at="2025-06-01T00:00:00Z")


def test_an_exported_bundle_verifies_and_reads(bundle, alice, bob):
    report = verify_bundle_bytes(dump_bundle(bundle))
    assert report.ok, report.problems
    assert (report.messages_verified, report.contents_verified, report.receipts_verified) == (2, 2, 3)
    assert (alice.slot, 1, alice.public.fingerprint) in report.fingerprints
    assert CANARY.decode() in bundle["rendering"] and "CONFIDENTIAL - art. 18 (20)" in bundle["rendering"]
    assert "LIMITED USE - art. 18 (19)" in bundle["rendering"] and "URGENT" in bundle["rendering"]
    assert alice.public.fingerprint in report.render()


def test_one_changed_byte_anywhere_in_a_bundle_file_is_rejected(bundle):
    data = dump_bundle(bundle)
    positions = sorted({(i * len(data)) // 400 for i in range(400)})
    started = time.perf_counter()
    accepted = []
    for position in positions:
        changed = bytearray(data)
        changed[position] = ord("x") if data[position] != ord("x") else ord("y")
        if verify_bundle_bytes(bytes(changed)).ok:
            accepted.append(position)
    print(f"\n  bundle: {len(positions)} changed bytes tried, {len(positions) - len(accepted)} rejected "
          f"in {time.perf_counter() - started:.2f} s")
    assert accepted == []


def test_semantic_edits_to_a_bundle_are_reported(bundle, envelope, alice, carol):
    def report_for(edit) -> list[str]:
        copy = json.loads(json.dumps(bundle))
        edit(copy)
        report = verify_bundle(copy)
        assert not report.ok
        return report.problems

    assert any("exporter" in p for p in report_for(lambda b: b["receipts"].pop()))
    assert any("replayed" in p for p in report_for(lambda b: b["messages"].append(b["messages"][0])))
    assert report_for(lambda b: b["messages"][0].update(content_key=b64e(os.urandom(32))))
    assert report_for(lambda b: b.update(rendering=b["rendering"].replace("thank you", "no thanks")))
    assert report_for(lambda b: b["public_keys"].pop(0))
    other = encrypt_message(_header("msg-x", conversation_id="conv-2"), b"elsewhere", alice.slot, alice.private,
                            {carol.slot: carol.public})
    assert any("another conversation" in p for p in report_for(lambda b: b["messages"].append({"envelope": other.to_dict()})))
    assert not verify_bundle({"v": 2}).ok and not verify_bundle([]).ok and not verify_bundle_bytes(b"\xff").ok


def test_the_verify_command_reports_and_exits_non_zero_on_failure(bundle, tmp_path):
    app = Flask(__name__)
    register_messaging_commands(app)
    runner = app.test_cli_runner()
    good = tmp_path / "bundle.json"
    good.write_bytes(dump_bundle(bundle))
    result = runner.invoke(args=["messages", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output and bundle["public_keys"][0]["keys"]["fingerprint"] in result.output
    bad = tmp_path / "tampered.json"
    bad.write_bytes(dump_bundle(bundle).replace(b"Received, thank you.", b"Received, thank yoU."))
    result = runner.invoke(args=["messages", "verify", str(bad)])
    assert result.exit_code == 1 and "NOT VERIFIED" in result.output


# --- versions, fingerprints, known answers ---------------------------------------------------------------


def test_every_record_carries_its_format_version_and_suite(envelope, bundle, alice, bob, small_stream):
    records = [envelope.to_dict(), envelope.to_dict()["header"], *envelope.to_dict()["wraps"], alice.public.to_dict(),
               wrap_private_keys(alice.private, "pw", FAST, member_id=1, allow_weak=True),
               wrap_with_recovery_key(alice.private, new_recovery_key(), member_id=1),
               seal_for_session(alice.private, os.urandom(32), member_id=1), small_stream[3], bundle,
               *bundle["receipts"]]
    _, authority_private = generate_authority_keys(1)
    records.append(grant_authority_key(authority_private, member_id=2, member_public=bob.public, granted_by=1,
                                       granter_private=alice.private))
    for record in records:
        assert record["v"] == 1 and isinstance(record["suite"], str)
    keyed = [r for r in records if "key_version" in r or "sender_key_version" in r]
    assert len(keyed) >= 9


def test_safety_numbers_are_the_same_from_both_sides(alice, bob, carol):
    assert safety_number(alice.slot, alice.public, bob.slot, bob.public) == \
        safety_number(bob.slot, bob.public, alice.slot, alice.public)
    assert safety_number(alice.slot, alice.public, bob.slot, bob.public) != \
        safety_number(alice.slot, alice.public, carol.slot, carol.public)
    assert len(safety_number(alice.slot, alice.public, bob.slot, bob.public).split()) == 6


def test_known_answers_pin_the_format(monkeypatch):
    """Fixed keys and randomness give fixed bytes, so the format cannot change silently; and an envelope
    stored by this version (its HPKE wrap made once, since `cryptography` takes no injected randomness for
    the encapsulation) must open forever."""
    private = MemberPrivateKeys(1, bytes(range(64)), bytes(range(32, 64)), bytes(range(64, 96)))
    assert private.public.fingerprint == KAT["fingerprint"]
    monkeypatch.setattr(envelope_module.os, "urandom", lambda n: bytes([0x42]) * n)
    header = envelope_module._validate_header(_header() | {
        "v": 1, "suite": envelope_module.SUITE_MESSAGE, "sender": "member:1", "sender_key_version": 1,
        "recipients": ["member:2"]})
    content_key, nonce, ct = _seal_content(b"known answer", envelope_module._content_aad(header))
    monkeypatch.undo()
    assert (content_key, nonce) == (b"\x42" * 32, b"\x42" * 12)
    assert b64e(ct) == KAT["ct"] and b64e(envelope_module._commitment(content_key)) == KAT["commit"]
    wraps = (Wrap("member:1", 1, b"\x01" * 1168), Wrap("member:2", 1, b64d("".join(KAT["wrap"]))))
    env = _sign(Envelope(header, nonce, ct, envelope_module._commitment(content_key), wraps, b""), private)
    assert hashlib.sha256(env.signing_input()).hexdigest() == KAT["signing_input_sha256"]
    assert b64e(env.sig) == KAT["sig"]  # Ed25519 is deterministic
    assert env.digest() == KAT["digest"]
    assert open_message(env.to_bytes(), "member:2", private, private.public).body == b"known answer"


KAT = {
    "fingerprint": "EFB3 0147 BD70 512D A538 D68A DD85 E0E2",
    "ct": "DU4OJi4lvsTSQYCVSSrv35q2pYz6l4kjU8IrRg",
    "commit": "3zRg0lSt2EEAFunhUCwugLJHqZi84dKqTCEIxEpF4WM",
    "sig": "ASheSdzz941G7uIRT0G4hExHxcXD4fGdOSyz7O6Y07JcRWqyhdDbN1vorc-JW-sdQGpys_tO9cxHkARkPmG7Aw",
    "digest": "kRoTHfmX3CoxEchhWv7zMkdwDWlHGN7C6oKdIqfAFtM",
    "signing_input_sha256": "139c91e0446e364be56a517aa560d357617c240c1791a22acb2b6a4f73dbc52c",
    "wrap": (
        "nO74OMHG6gDjqxc7wisfhi6uhOn9sxXLEbDknv-L43AHdEWGGgpVR1di0YIxLZVpOZ647scfKRyvjMx77ahh7ovCo4bUXpYC7rjq"
        "-J47X-YubMwTPVZrlkpTZXZCtVCsqA-lHZl0AppgQrbgw67BsUmCc21nPllygryqD3LUfHyIGUaRL7z1pOGFOkzonkHBRhDhsZTm"
        "pRZQPkDa3Guo3bZvipf_-qQHgkXDqoX_SvoalcChRv8xYgLJjJ5cgY40IiqLWBMKVbCM23FpxvG6lJ54pxVmE3epzHPz7mIw3SrQ"
        "ZqqYT4gk1rSKpOtYJs-wauRWXmA7ExSB_qZDOpfNUOL0z9v4nZjY3j2kOumGawMKmWiwPSiKCrKMKpY48NMouy7-fUam4ExI7gKD"
        "GkfqgiSa5beB4VMRsUZ9VC2s53mHX7UcgiAgGzBgzCGO8qj7Ba1NbANfTUt3bo2V24tFfymXFRildXO0BGX8RRWPiY2wYrvPJGE4"
        "Qq21qpCUQaNlB-q9CwyNqfzHzA3gMJUUlRmCtH-0ioOCONAGe1oOa1BPS5I5mBpQdvLFHkGpmQxO-mtmQ376916-nkRrbZRMX52r"
        "gCit7dfFoJpCO3a8_t1dZPM7Ia2zbjm3-g573O56raMzzcE5lgRkI3PonkziGCLdr3MkvDyaqISwDmLvEdApBqtAoEVTdLORRhvw"
        "gs3x4pDZNvCVjEXlLDzGURy-TFnBGXeab5j-mKoGoqQ59KBEebIX708TyQDq9Mi_yOGOXUP7Gns9qmWd2FXUGaHGKuiVaKfHQCen"
        "tdJujP8GQmLrnPlsLrVSqYIQ1AdVbWjbvHMKXMFnkpC4IYxMyxZJjk4b0dGBILOwechcZaNCwyGC5OQcJ4ZBtO5BAp7VbfeA_AGY"
        "mw7M5FfZSY2LNqIfi_adTt6ulN1yZyKnQC90hWBHH8rA0ywIu2xrkNjszg8tt-xyUGj7DSzHsazzyCdtz5HdqkbU1C-Q5GJemg5S"
        "Fok8IEoYRXbi-hSIWEcJOwDX4Ps57Plt4VPf2uUjkWVwYcfkRRGTB40FMOwC4fH19peEB3HUpXTR9Tx44yk-NhMSa0itiTEDhzbd"
        "gWiEd7K11V-Skw4xnsT8lGii06M4qKW2SqVsXj3mKOBdZFfef7Uw24J22IoN7fo7276STXWCKEIgEygI4xTqECB0LmuP2H-r40L0"
        "DOPfVIz9dcgfwDLcCoa7typ0FnQ8Qjm7SOZAox1EJPpkTkNrhfxy_aX9QmEm6u0G1swgN4aYg_2bn4L_2chBG1e07lCMYP1rh4lG"
        "wJZQg8dsX6OotZ2qKmF4hWAv6x4zDdeHRJvT9q5qwokakDovHtOY1JlUgFx3zkdDGdi6tVgwKfPQXU9oHbYNdOeSxFdFT2azskSt"
        "7ogalkauaMQnONAA9weyX1aZ7zINY9EdIwsfztKOwFkjjOObdsb27urotoT3XsR-fdiFG4BR8ET1XW7hAXgYv9x5fZRGXafFYBM9"
        "-c5MKLBKw_QsiHd5KQu4W7YFkvfz1RlbnkiO9U7WMF0ETO5RMZGn1nkEzw"
    ),
}


def test_a_loaded_envelope_is_checked_once_and_any_copy_of_it_again(envelope):
    from network.messaging.envelope import load_envelope

    loaded = load_envelope(envelope.to_bytes())
    assert load_envelope(loaded) is loaded  # built by from_dict: not checked a second time
    assert load_envelope(envelope) is not envelope  # built by encrypt_message: checked when loaded
    with pytest.raises(MalformedRecord):
        load_envelope(dataclasses.replace(loaded, nonce=b"short"))  # a copy is checked again
    copy = dataclasses.replace(loaded)
    assert load_envelope(copy) is not copy and load_envelope(copy) == loaded


def test_stored_bytes_are_parsed_once_per_process_read_only_and_verified_at_every_opening(envelope, alice, bob, carol):
    """A page shows the same stored envelopes on every request: parsed once, the parsed envelope is shared, so nothing
    can change it (its header is what the signature covered); the signature is still checked at every opening."""
    from network.messaging.envelope import load_envelope

    data = envelope.to_bytes()
    loaded = load_envelope(data)
    assert load_envelope(bytes(bytearray(data))) is loaded
    for change in (lambda: loaded.header.__setitem__("urgent", True),
                   lambda: loaded.header.update(urgent=True),
                   lambda: loaded.header["handling"].__setitem__("confidential", False),
                   lambda: loaded.header["recipients"].append(alice.slot),
                   lambda: loaded.header["recipients"].sort(reverse=True)):
        with pytest.raises(TypeError):
            change()
    assert loaded.header["urgent"] is False and loaded.header["recipients"] == [bob.slot, carol.slot]
    assert loaded.header["handling"] == {"confidential": True, "limited_use": True}
    copy = loaded.to_dict()["header"] | {"urgent": True}  # copies are ordinary dicts again
    copy["handling"]["confidential"] = False
    assert loaded.header["handling"]["confidential"] is True and json.loads(loaded.to_bytes()) == json.loads(data)
    assert open_message(data, bob.slot, bob.private, alice.public).body == CANARY
    with pytest.raises(BadSignature):
        open_message(data, bob.slot, bob.private, carol.public)  # parsed already: the signature is checked again
    with pytest.raises(BadSignature):
        verify_envelope(data, carol.public)
