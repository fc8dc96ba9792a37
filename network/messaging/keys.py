"""Member and authority key pairs, and how their private halves are stored: under the password, the
recovery key, the session, or (for an authority mailbox) each holder's own public key."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from network.messaging.formats import (
    ED25519_LENGTH,
    FORMAT_VERSION,
    HPKE_SUITES,
    KEY_LENGTH,
    MLKEM768_PUBLIC_LENGTH,
    MLKEM_SEED_LENGTH,
    NONCE_LENGTH,
    SIGNATURE_LENGTH,
    SUITE_AUTHORITY_GRANT,
    SUITE_AUTHORITY_KEY,
    SUITE_KEYS,
    SUITE_PASSWORD_WRAP,
    SUITE_RECOVERY_WRAP,
    SUITE_SESSION_SEAL,
    X25519_LENGTH,
    BadSignature,
    InvalidRecoveryKey,
    MalformedRecord,
    SessionKeysUnavailable,
    WeakKdfParameters,
    WrongPassword,
    WrongRecipientKey,
    b64d,
    b64e,
    canonical,
    domain,
    expect_fields,
    expect_int,
    expect_version,
    parse_canonical,
)

# --- member key pairs ------------------------------------------------------------------------------------


def _fingerprint(material: dict) -> str:
    """128 bits of SHA-256 over the public keys, in eight groups of four hex digits for reading aloud."""
    digest = hashlib.sha256(domain("fingerprint") + canonical(material)).hexdigest()[:32].upper()
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


def _kem_public_key(mlkem768: bytes, x25519_public: bytes) -> hpke.MLKEM768X25519PublicKey:
    """The hybrid HPKE public key from its two raw parts (1,184 + 32 bytes)."""
    return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(mlkem768),
                                        x25519.X25519PublicKey.from_public_bytes(x25519_public))


def _kem_private_key(mlkem_seed: bytes, x25519_private: bytes) -> hpke.MLKEM768X25519PrivateKey:
    """The hybrid HPKE private key from the ML-KEM-768 seed (64 bytes) and the raw X25519 key (32 bytes)."""
    return hpke.MLKEM768X25519PrivateKey(mlkem.MLKEM768PrivateKey.from_seed_bytes(mlkem_seed),
                                         x25519.X25519PrivateKey.from_private_bytes(x25519_private))


def _kem_public_parts(mlkem_seed: bytes, x25519_private: bytes) -> tuple[bytes, bytes]:
    """The raw public parts (ML-KEM-768, X25519) of a hybrid private key."""
    return (mlkem.MLKEM768PrivateKey.from_seed_bytes(mlkem_seed).public_key().public_bytes_raw(),
            x25519.X25519PrivateKey.from_private_bytes(x25519_private).public_key().public_bytes_raw())


@dataclass(frozen=True)
class MemberPublicKeys:
    """What everyone may know of a member's keys: the KEM public parts and the signing public key."""

    key_version: int
    mlkem768: bytes = field(repr=False)
    x25519: bytes = field(repr=False)
    ed25519: bytes = field(repr=False)

    def _material(self) -> dict:
        return {
            "v": FORMAT_VERSION, "suite": SUITE_KEYS, "key_version": self.key_version,
            "mlkem768": b64e(self.mlkem768), "x25519": b64e(self.x25519), "ed25519": b64e(self.ed25519),
        }

    @cached_property
    def fingerprint(self) -> str:
        return _fingerprint(self._material())

    @cached_property
    def kem_key(self) -> hpke.MLKEM768X25519PublicKey:
        return _kem_public_key(self.mlkem768, self.x25519)

    @cached_property
    def signing_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.ed25519)

    def to_dict(self) -> dict:
        return self._material() | {"fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, record: Mapping) -> MemberPublicKeys:
        record = expect_fields(record, ["v", "suite", "key_version", "mlkem768", "x25519", "ed25519"],
                               ["fingerprint"], what="public keys")
        expect_version(record, [SUITE_KEYS], what="public keys")
        keys = cls(
            key_version=expect_int(record["key_version"], field="key_version", minimum=1),
            mlkem768=b64d(record["mlkem768"], length=MLKEM768_PUBLIC_LENGTH, field="mlkem768"),
            x25519=b64d(record["x25519"], length=X25519_LENGTH, field="x25519"),
            ed25519=b64d(record["ed25519"], length=ED25519_LENGTH, field="ed25519"),
        )
        if "fingerprint" in record and record["fingerprint"] != keys.fingerprint:
            raise MalformedRecord("public keys: the fingerprint does not match the keys")
        try:
            keys.kem_key, keys.signing_key  # noqa: B018 -- reject unusable key bytes now, not at first use
        except ValueError as error:
            raise MalformedRecord("public keys: invalid key bytes") from error
        return keys


@dataclass(frozen=True)
class MemberPrivateKeys:
    """A member's private keys, unwrapped. Never stored like this: see wrap_private_keys and seal_for_session."""

    key_version: int
    mlkem_seed: bytes = field(repr=False)
    x25519: bytes = field(repr=False)
    ed25519: bytes = field(repr=False)

    @cached_property
    def kem_key(self) -> hpke.MLKEM768X25519PrivateKey:
        return _kem_private_key(self.mlkem_seed, self.x25519)

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.ed25519)

    @cached_property
    def public(self) -> MemberPublicKeys:
        mlkem768, x25519_public = _kem_public_parts(self.mlkem_seed, self.x25519)
        return MemberPublicKeys(key_version=self.key_version, mlkem768=mlkem768, x25519=x25519_public,
                                ed25519=self.signing_key.public_key().public_bytes_raw())

    def _serialize(self) -> bytes:
        return canonical({
            "v": FORMAT_VERSION, "suite": SUITE_KEYS, "key_version": self.key_version,
            "mlkem768_seed": b64e(self.mlkem_seed), "x25519": b64e(self.x25519), "ed25519": b64e(self.ed25519),
        })

    @classmethod
    def _deserialize(cls, data: bytes) -> MemberPrivateKeys:
        record = expect_fields(parse_canonical(data), ["v", "suite", "key_version", "mlkem768_seed", "x25519", "ed25519"],
                               what="private keys")
        expect_version(record, [SUITE_KEYS], what="private keys")
        return cls(
            key_version=expect_int(record["key_version"], field="key_version", minimum=1),
            mlkem_seed=b64d(record["mlkem768_seed"], length=MLKEM_SEED_LENGTH, field="mlkem768_seed"),
            x25519=b64d(record["x25519"], length=X25519_LENGTH, field="x25519"),
            ed25519=b64d(record["ed25519"], length=ED25519_LENGTH, field="ed25519"),
        )


def generate_member_keys(*, key_version: int = 1) -> tuple[MemberPublicKeys, MemberPrivateKeys]:
    """A fresh hybrid KEM key pair (ML-KEM-768 + X25519) and Ed25519 signing pair, from the OS CSPRNG.

    A password reset without the recovery key calls this with the next key_version."""
    expect_int(key_version, field="key_version", minimum=1)
    private = MemberPrivateKeys(
        key_version=key_version,
        mlkem_seed=mlkem.MLKEM768PrivateKey.generate().private_bytes_raw(),
        x25519=x25519.X25519PrivateKey.generate().private_bytes_raw(),
        ed25519=Ed25519PrivateKey.generate().private_bytes_raw(),
    )
    return private.public, private


def safety_number(slot_a: str, keys_a: MemberPublicKeys, slot_b: str, keys_b: MemberPublicKeys) -> str:
    """The number two members compare out of band: the same for both, whichever side computes it."""
    sides = sorted([(slot_a, keys_a.fingerprint), (slot_b, keys_b.fingerprint)])
    digest = hashlib.sha256(domain("safety-number") + canonical(sides)).digest()
    digits = "".join(f"{int.from_bytes(digest[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))
    return " ".join(digits[i:i + 5] for i in range(0, 30, 5))


# --- Argon2id parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: time_cost passes over memory_cost KiB with `parallelism` lanes."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024
    parallelism: int = 4

    # OWASP Password Storage Cheat Sheet equivalents of the ASVS 5.0 appendix minimum (m KiB, t).
    MINIMUMS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))
    # Refuse to run absurd stored parameters (a planted record must not exhaust the server).
    MAXIMUMS = (16, 1024 * 1024, 16)

    def check(self, *, allow_weak: bool = False) -> None:
        t, m, p = self.time_cost, self.memory_cost, self.parallelism
        if not all(type(x) is int for x in (t, m, p)) or t < 1 or p < 1 or m < 8 * p:
            raise WeakKdfParameters("Argon2id parameters are not valid")
        if t > self.MAXIMUMS[0] or m > self.MAXIMUMS[1] or p > self.MAXIMUMS[2]:
            raise WeakKdfParameters("Argon2id parameters above the accepted maximum")
        if not allow_weak and not any(m >= min_m and t >= min_t for min_m, min_t in self.MINIMUMS):
            raise WeakKdfParameters(
                f"Argon2id t={t}, m={m} KiB is below the minimum (m=19456 KiB with t=2, or an OWASP equivalent)"
            )


DEFAULT_KDF = KdfParams()


def kdf_params_from_config(config: Mapping) -> tuple[KdfParams, bool]:
    """(parameters, allow_weak) from settings: MESSAGING_ARGON2_* if set, else the password hasher's ARGON2_*.
    Weak parameters are allowed only when TESTING is on."""
    def pick(name: str, default: int) -> int:
        return int(config.get(f"MESSAGING_{name}", config.get(name, default)))

    params = KdfParams(pick("ARGON2_TIME_COST", DEFAULT_KDF.time_cost),
                       pick("ARGON2_MEMORY_COST", DEFAULT_KDF.memory_cost),
                       pick("ARGON2_PARALLELISM", DEFAULT_KDF.parallelism))
    return params, bool(config.get("TESTING"))


def _argon2id(password: str, salt: bytes, params: KdfParams) -> bytes:
    try:
        return hash_secret_raw(password.encode("utf-8"), salt, time_cost=params.time_cost,
                               memory_cost=params.memory_cost, parallelism=params.parallelism,
                               hash_len=KEY_LENGTH, type=Type.ID, version=19)
    except HashingError as error:
        raise WeakKdfParameters("Argon2id refused the parameters") from error


# --- wrapped records (password, recovery key, session) ---------------------------------------------------


def _seal_record(record: dict, key: bytes, plaintext: bytes) -> dict:
    record = record | {"nonce": b64e(os.urandom(NONCE_LENGTH))}
    ct = AESGCM(key).encrypt(b64d(record["nonce"]), plaintext, domain("wrapped-keys") + canonical(record))
    return record | {"ct": b64e(ct)}


def _open_record(record: dict, key: bytes) -> bytes:
    """Raises InvalidTag on a wrong key or any change; nothing is returned unless the whole record checks."""
    header = {name: value for name, value in record.items() if name != "ct"}
    nonce = b64d(record["nonce"], length=NONCE_LENGTH, field="nonce")
    return AESGCM(key).decrypt(nonce, b64d(record["ct"], field="ct"), domain("wrapped-keys") + canonical(header))


def _expect_member(record: dict, member_id: int, purpose: str) -> None:
    if record["purpose"] != purpose:
        raise MalformedRecord(f"wrapped keys: this record is for {record['purpose']!r}, not {purpose!r}")
    if record["member"] != member_id:
        raise MalformedRecord("wrapped keys: this record belongs to another member")


def _checked_private(data: bytes, record: dict) -> MemberPrivateKeys:
    private = MemberPrivateKeys._deserialize(data)
    if private.key_version != record["key_version"]:
        raise MalformedRecord("wrapped keys: key version mismatch")
    return private


def wrap_private_keys(private: MemberPrivateKeys, password: str, params: KdfParams = DEFAULT_KDF, *,
                      member_id: int, allow_weak: bool = False) -> dict:
    """Private keys encrypted (AES-256-GCM) under Argon2id(password, random 16-byte salt)."""
    params.check(allow_weak=allow_weak)
    salt = os.urandom(16)
    record = {
        "v": FORMAT_VERSION, "suite": SUITE_PASSWORD_WRAP, "purpose": "password",
        "member": expect_int(member_id, field="member_id"), "key_version": private.key_version,
        "kdf": {"name": "argon2id", "t": params.time_cost, "m": params.memory_cost, "p": params.parallelism,
                "salt": b64e(salt)},
    }
    return _seal_record(record, _argon2id(password, salt, params), private._serialize())


def _parse_password_record(record: Mapping, member_id: int) -> tuple[dict, KdfParams, bytes]:
    record = expect_fields(record, ["v", "suite", "purpose", "member", "key_version", "kdf", "nonce", "ct"],
                           what="password-wrapped keys")
    expect_version(record, [SUITE_PASSWORD_WRAP], what="password-wrapped keys")
    _expect_member(record, member_id, "password")
    kdf = expect_fields(record["kdf"], ["name", "t", "m", "p", "salt"], what="kdf")
    if kdf["name"] != "argon2id":
        raise MalformedRecord("kdf: only argon2id is used")
    params = KdfParams(expect_int(kdf["t"], field="t"), expect_int(kdf["m"], field="m"), expect_int(kdf["p"], field="p"))
    return record, params, b64d(kdf["salt"], length=16, field="salt")


def unwrap_with_password(record: Mapping, password: str, *, member_id: int,
                         allow_weak: bool = False) -> MemberPrivateKeys:
    """The member's private keys, or WrongPassword. Stored parameters are checked before any work is done."""
    record, params, salt = _parse_password_record(record, member_id)
    params.check(allow_weak=allow_weak)
    try:
        data = _open_record(record, _argon2id(password, salt, params))
    except InvalidTag as error:
        raise WrongPassword("the password does not unlock these keys") from error
    return _checked_private(data, record)


def rewrap(record: Mapping, old_password: str, new_password: str, params: KdfParams = DEFAULT_KDF, *,
           member_id: int, allow_weak: bool = False) -> dict:
    """Password change: the same private keys under the new password (fresh salt and nonce)."""
    private = unwrap_with_password(record, old_password, member_id=member_id, allow_weak=allow_weak)
    return wrap_private_keys(private, new_password, params, member_id=member_id, allow_weak=allow_weak)


# Recovery keys: 256 random bits + a 24-bit checksum, in RFC 4648 base32 (no 0, 1, 8 or 9 to misread),
# eight groups of seven characters.
_RECOVERY_BYTES, _RECOVERY_CHECK = 32, 3
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _recovery_checksum(key: bytes) -> bytes:
    return hashlib.sha256(domain("recovery-key") + key).digest()[:_RECOVERY_CHECK]


def format_recovery_key(key: bytes) -> str:
    if len(key) != _RECOVERY_BYTES:
        raise ValueError("a recovery key is 32 bytes")
    text = base64.b32encode(key + _recovery_checksum(key)).decode("ascii")
    return "-".join(text[i:i + 7] for i in range(0, len(text), 7))


def new_recovery_key() -> str:
    """A recovery key to show the member once, e.g. 'K3J5QZA-...' (8 groups of 7 characters)."""
    return format_recovery_key(os.urandom(_RECOVERY_BYTES))


def parse_recovery_key(text: str) -> bytes:
    """The 32 key bytes; InvalidRecoveryKey if a character is wrong (spaces, dashes and case do not matter)."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("018", "OIB"))
    if len(cleaned) != 56 or any(ch not in _B32 for ch in cleaned):
        raise InvalidRecoveryKey("a recovery key has 56 letters and digits 2-7, in eight groups")
    raw = base64.b32decode(cleaned)
    key, check = raw[:_RECOVERY_BYTES], raw[_RECOVERY_BYTES:]
    if not hmac.compare_digest(check, _recovery_checksum(key)):
        raise InvalidRecoveryKey("the recovery key has a typo: its checksum does not match")
    return key


def _recovery_wrap_key(key: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=salt, info=domain("recovery-wrap")).derive(key)


def wrap_with_recovery_key(private: MemberPrivateKeys, recovery_key: str, *, member_id: int) -> dict:
    key, salt = parse_recovery_key(recovery_key), os.urandom(16)
    record = {
        "v": FORMAT_VERSION, "suite": SUITE_RECOVERY_WRAP, "purpose": "recovery",
        "member": expect_int(member_id, field="member_id"), "key_version": private.key_version, "salt": b64e(salt),
    }
    return _seal_record(record, _recovery_wrap_key(key, salt), private._serialize())


def unwrap_with_recovery_key(record: Mapping, recovery_key: str, *, member_id: int) -> MemberPrivateKeys:
    record = expect_fields(record, ["v", "suite", "purpose", "member", "key_version", "salt", "nonce", "ct"],
                           what="recovery-wrapped keys")
    expect_version(record, [SUITE_RECOVERY_WRAP], what="recovery-wrapped keys")
    _expect_member(record, member_id, "recovery")
    key = parse_recovery_key(recovery_key)
    try:
        data = _open_record(record, _recovery_wrap_key(key, b64d(record["salt"], length=16, field="salt")))
    except InvalidTag as error:
        raise InvalidRecoveryKey("this recovery key does not unlock these keys") from error
    return _checked_private(data, record)


def session_key_from_token(token: str) -> bytes:
    """The key that seals unlocked private keys for one session: derived from the session cookie's token
    (never stored; the server keeps only the token's SHA-256), distinct from the session-data key."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=None,
                info=domain("session-keys")).derive(token.encode("utf-8"))


def seal_for_session(private: MemberPrivateKeys, session_key: bytes, *, member_id: int) -> dict:
    """Unlocked private keys for the length of a session; useless without the cookie that derived session_key."""
    if len(session_key) != KEY_LENGTH:
        raise ValueError("the session key is 32 bytes")
    record = {
        "v": FORMAT_VERSION, "suite": SUITE_SESSION_SEAL, "purpose": "session",
        "member": expect_int(member_id, field="member_id"), "key_version": private.key_version,
    }
    return _seal_record(record, session_key, private._serialize())


def unseal_from_session(record: Mapping, session_key: bytes, *, member_id: int) -> MemberPrivateKeys:
    try:
        record = expect_fields(record, ["v", "suite", "purpose", "member", "key_version", "nonce", "ct"],
                               what="session-sealed keys")
        expect_version(record, [SUITE_SESSION_SEAL], what="session-sealed keys")
        _expect_member(record, member_id, "session")
        return _checked_private(_open_record(record, session_key), record)
    except (InvalidTag, MalformedRecord, ValueError) as error:
        raise SessionKeysUnavailable("the session's keys do not open; sign in again") from error


# --- authority mailboxes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorityPublicKey:
    authority_id: int
    key_version: int
    mlkem768: bytes = field(repr=False)
    x25519: bytes = field(repr=False)

    def _material(self) -> dict:
        return {"v": FORMAT_VERSION, "suite": SUITE_AUTHORITY_KEY, "authority": self.authority_id,
                "key_version": self.key_version, "mlkem768": b64e(self.mlkem768), "x25519": b64e(self.x25519)}

    @cached_property
    def fingerprint(self) -> str:
        return _fingerprint(self._material())

    @cached_property
    def kem_key(self) -> hpke.MLKEM768X25519PublicKey:
        return _kem_public_key(self.mlkem768, self.x25519)

    def to_dict(self) -> dict:
        return self._material() | {"fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, record: Mapping) -> AuthorityPublicKey:
        record = expect_fields(record, ["v", "suite", "authority", "key_version", "mlkem768", "x25519"],
                               ["fingerprint"], what="authority public key")
        expect_version(record, [SUITE_AUTHORITY_KEY], what="authority public key")
        key = cls(
            authority_id=expect_int(record["authority"], field="authority"),
            key_version=expect_int(record["key_version"], field="key_version", minimum=1),
            mlkem768=b64d(record["mlkem768"], length=MLKEM768_PUBLIC_LENGTH, field="mlkem768"),
            x25519=b64d(record["x25519"], length=X25519_LENGTH, field="x25519"),
        )
        if "fingerprint" in record and record["fingerprint"] != key.fingerprint:
            raise MalformedRecord("authority public key: the fingerprint does not match the key")
        return key


@dataclass(frozen=True)
class AuthorityPrivateKey:
    authority_id: int
    key_version: int
    mlkem_seed: bytes = field(repr=False)
    x25519: bytes = field(repr=False)

    @cached_property
    def kem_key(self) -> hpke.MLKEM768X25519PrivateKey:
        return _kem_private_key(self.mlkem_seed, self.x25519)

    @cached_property
    def public(self) -> AuthorityPublicKey:
        mlkem768, x25519_public = _kem_public_parts(self.mlkem_seed, self.x25519)
        return AuthorityPublicKey(authority_id=self.authority_id, key_version=self.key_version, mlkem768=mlkem768,
                                  x25519=x25519_public)

    def _serialize(self) -> bytes:
        return canonical({"v": FORMAT_VERSION, "suite": SUITE_AUTHORITY_KEY, "authority": self.authority_id,
                          "key_version": self.key_version, "mlkem768_seed": b64e(self.mlkem_seed),
                          "x25519": b64e(self.x25519)})

    @classmethod
    def _deserialize(cls, data: bytes) -> AuthorityPrivateKey:
        record = expect_fields(parse_canonical(data), ["v", "suite", "authority", "key_version", "mlkem768_seed", "x25519"],
                               what="authority private key")
        expect_version(record, [SUITE_AUTHORITY_KEY], what="authority private key")
        return cls(
            authority_id=expect_int(record["authority"], field="authority"),
            key_version=expect_int(record["key_version"], field="key_version", minimum=1),
            mlkem_seed=b64d(record["mlkem768_seed"], length=MLKEM_SEED_LENGTH, field="mlkem768_seed"),
            x25519=b64d(record["x25519"], length=X25519_LENGTH, field="x25519"),
        )


def generate_authority_keys(authority_id: int, *, key_version: int = 1) -> tuple[AuthorityPublicKey, AuthorityPrivateKey]:
    """A mailbox key pair for an authority (ML-KEM-768 + X25519). Replies are signed by the member who writes."""
    private = AuthorityPrivateKey(
        authority_id=expect_int(authority_id, field="authority_id"),
        key_version=expect_int(key_version, field="key_version", minimum=1),
        mlkem_seed=mlkem.MLKEM768PrivateKey.generate().private_bytes_raw(),
        x25519=x25519.X25519PrivateKey.generate().private_bytes_raw(),
    )
    return private.public, private


_GRANT_BOUND = ("v", "suite", "authority", "key_version", "member", "member_key_version")


def grant_authority_key(authority_private: AuthorityPrivateKey, *, member_id: int, member_public: MemberPublicKeys,
                        granted_by: int, granter_private: MemberPrivateKeys) -> dict:
    """The authority's private key wrapped (HPKE) for one member, signed by a member who already holds it.

    The HPKE info binds authority, key version, member and the member's key version, so a grant cannot be
    handed to another member or passed off as another version."""
    record = {
        "v": FORMAT_VERSION, "suite": SUITE_AUTHORITY_GRANT, "authority": authority_private.authority_id,
        "key_version": authority_private.key_version, "member": expect_int(member_id, field="member_id"),
        "member_key_version": member_public.key_version, "granted_by": expect_int(granted_by, field="granted_by"),
        "granted_by_key_version": granter_private.key_version,
    }
    info = domain("authority-grant") + canonical({name: record[name] for name in _GRANT_BOUND})
    enc = HPKE_SUITES[SUITE_AUTHORITY_GRANT].encrypt(authority_private._serialize(), member_public.kem_key, info=info)
    record["enc"] = b64e(enc)
    record["sig"] = b64e(granter_private.signing_key.sign(domain("authority-grant-signature") + canonical(record)))
    return record


def open_authority_grant(record: Mapping, *, member_id: int, member_private: MemberPrivateKeys,
                         granter_public: MemberPublicKeys | None = None) -> AuthorityPrivateKey:
    """The authority's private key from a grant addressed to this member. With granter_public (the
    keys of `granted_by` at `granted_by_key_version`), the granter's signature is checked first."""
    record = expect_fields(record, ["v", "suite", "authority", "key_version", "member", "member_key_version",
                                    "granted_by", "granted_by_key_version", "enc", "sig"], what="authority grant")
    suite = expect_version(record, [SUITE_AUTHORITY_GRANT], what="authority grant")
    for name in ("authority", "key_version", "member", "member_key_version", "granted_by", "granted_by_key_version"):
        expect_int(record[name], field=name)
    if granter_public is not None:
        if granter_public.key_version != record["granted_by_key_version"]:
            raise BadSignature("authority grant: signed with another key version of the granter")
        signed = {name: value for name, value in record.items() if name != "sig"}
        try:
            granter_public.signing_key.verify(b64d(record["sig"], length=SIGNATURE_LENGTH, field="sig"),
                                              domain("authority-grant-signature") + canonical(signed))
        except InvalidSignature as error:
            raise BadSignature("authority grant: the granter's signature does not verify") from error
    if record["member"] != member_id or record["member_key_version"] != member_private.key_version:
        raise WrongRecipientKey("authority grant: addressed to another member or key version")
    info = domain("authority-grant") + canonical({name: record[name] for name in _GRANT_BOUND})
    try:
        data = HPKE_SUITES[suite].decrypt(b64d(record["enc"], field="enc"), member_private.kem_key, info=info)
    except (InvalidTag, ValueError) as error:
        raise WrongRecipientKey("authority grant: does not open with this member's key") from error
    private = AuthorityPrivateKey._deserialize(data)
    if (private.authority_id, private.key_version) != (record["authority"], record["key_version"]):
        raise MalformedRecord("authority grant: the wrapped key is not the one the grant names")
    return private


def rotate_authority_keys(authority_id: int, previous_key_version: int, holders: Mapping[int, MemberPublicKeys], *,
                          granted_by: int, granter_private: MemberPrivateKeys,
                          ) -> tuple[AuthorityPublicKey, AuthorityPrivateKey, dict[int, dict]]:
    """After a member leaves the mailbox: a new key version for new messages, granted to the remaining
    holders. Old versions stay readable through the grants holders already have."""
    public, private = generate_authority_keys(authority_id, key_version=previous_key_version + 1)
    grants = {
        member_id: grant_authority_key(private, member_id=member_id, member_public=keys,
                                       granted_by=granted_by, granter_private=granter_private)
        for member_id, keys in holders.items()
    }
    return public, private, grants
