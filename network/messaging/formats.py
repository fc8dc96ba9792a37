"""Shared ground of the messaging formats: versions, suites, errors, canonical JSON and strict base64."""
from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hpke

FORMAT_VERSION = 1

# One name per combination of algorithms. A record names its suite; decoding looks the name up here and
# refuses anything else, so a later suite can be added beside these without converting stored data.
SUITE_MESSAGE = "HPKE-MLKEM768X25519-HKDFSHA256-AES256GCM+AES256GCM+ED25519"  # envelopes, wraps
SUITE_KEYS = "MLKEM768X25519+ED25519"  # a member's public and private key set
SUITE_AUTHORITY_KEY = "MLKEM768X25519"  # an authority mailbox key pair
SUITE_AUTHORITY_GRANT = "HPKE-MLKEM768X25519-HKDFSHA256-AES256GCM+ED25519"  # authority key wrapped for a member
SUITE_PASSWORD_WRAP = "ARGON2ID-AES256GCM"  # noqa: S105 -- a suite name, not a password
SUITE_RECOVERY_WRAP = "HKDFSHA256-AES256GCM"
SUITE_SESSION_SEAL = "HKDFSHA256-AES256GCM"
SUITE_STREAM = "AES256GCM-STREAM"
SUITE_RECEIPT = "ED25519"
SUITE_BUNDLE = "ED25519"

HPKE_SUITES = {
    SUITE_MESSAGE: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    SUITE_AUTHORITY_GRANT: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}

MLKEM768_PUBLIC_LENGTH = 1184
MLKEM_SEED_LENGTH = 64
X25519_LENGTH = 32
ED25519_LENGTH = 32
SIGNATURE_LENGTH = 64
KEY_LENGTH = 32
NONCE_LENGTH = 12
HPKE_OVERHEAD = 1120 + 16  # encapsulation + tag


class MessagingCryptoError(Exception):
    """Base of every failure of the messaging cryptography: nothing was decrypted or shown."""


class MalformedRecord(MessagingCryptoError):
    """A record is not in the exact shape its format prescribes (missing, extra or ill-typed field)."""


class UnsupportedFormat(MessagingCryptoError):
    """A record names a format version or cipher suite this code does not know."""


class BadSignature(MessagingCryptoError):
    """A signature does not verify with the given public key: tampered data or the wrong signer."""


class NotARecipient(MessagingCryptoError):
    """The envelope holds no wrapped key for this recipient slot."""


class WrongRecipientKey(MessagingCryptoError):
    """A wrapped key does not open with this private key: wrong key, wrong key version, or a moved wrap."""


class ContentTampered(MessagingCryptoError):
    """The message body or its key commitment does not match what the sender signed."""


class ContextMismatch(MessagingCryptoError):
    """A valid record was found in the wrong place (another message, conversation or recipient): a replay."""


class StreamTampered(MessagingCryptoError):
    """An encrypted attachment was truncated, extended, reordered or changed."""


class ReceiptInvalid(MessagingCryptoError):
    """A delivery or read receipt does not verify or does not belong to the message it names."""


class KeyUnlockError(MessagingCryptoError):
    """Private keys could not be unwrapped."""


class WrongPassword(KeyUnlockError):
    """The password does not unlock the member's private keys."""


class InvalidRecoveryKey(KeyUnlockError):
    """The recovery key is mistyped (its checksum does not match) or is not this member's."""


class WeakKdfParameters(MessagingCryptoError):
    """Argon2id parameters below the ASVS / OWASP minimum (allowed only in tests)."""


class SessionKeysUnavailable(KeyUnlockError):
    """The session's sealed keys do not open: another session's cookie, sign-out, or tampering."""


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, integers only (RFC 8785 for these value types)."""
    _check_canonical_types(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _check_canonical_types(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:  # beyond what JavaScript (and RFC 8785) represents exactly
            raise MalformedRecord("integer out of the interoperable range")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_canonical_types(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedRecord("object keys must be strings")
            _check_canonical_types(item)
        return
    raise MalformedRecord(f"value of type {type(value).__name__} has no canonical form")


def _refuse_change(self, *args, **kwargs):
    raise TypeError("a signed record read from storage cannot be changed: copy it first")


class ReadOnlyDict(dict):
    """A dict that refuses every change: what a parsed envelope hands out, shared by every request of the process
    (envelope.load_envelope), so that its header cannot drift from the signing input computed for it. A dict still
    (canonical JSON, `==`, `|` as before); copies (copy, deepcopy, `|`, dict()) are ordinary dicts again."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse_change

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce_ex__(self, protocol):
        return dict, (dict(self),)


class ReadOnlyList(list):
    """A list that refuses every change: see ReadOnlyDict."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse_change
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse_change

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.deepcopy(value, memo) for value in self]

    def __reduce_ex__(self, protocol):
        return list, (list(self),)


def read_only(value: Any) -> Any:
    """A deep copy of a JSON value in which no dict or list can be changed."""
    if isinstance(value, dict):
        return ReadOnlyDict((key, read_only(item)) for key, item in value.items())
    if isinstance(value, list):
        return ReadOnlyList(read_only(item) for item in value)
    if isinstance(value, tuple):
        return tuple(read_only(item) for item in value)
    return value


def parse_canonical(data: bytes) -> Any:
    """Parse JSON that must already be in canonical form (any other spelling of the same value is refused)."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_refuse_float, parse_constant=_refuse_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise MalformedRecord("not valid JSON") from error
    if canonical(value) != data:
        raise MalformedRecord("not in canonical form")
    return value


def _refuse_float(text: str) -> Any:
    raise MalformedRecord("non-integer numbers are not used in these formats")


def b64e(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as WebCrypto-era JavaScript handles it."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


_B64_RE = re.compile(r"[A-Za-z0-9_-]*")


def b64d(text: Any, *, length: int | None = None, field: str = "field") -> bytes:
    """Strict inverse of b64e: only the canonical spelling decodes, so no two strings give the same bytes."""
    if not isinstance(text, str) or not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedRecord(f"{field}: not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise MalformedRecord(f"{field}: not base64url") from error
    if b64e(data) != text:
        raise MalformedRecord(f"{field}: non-canonical base64url")
    if length is not None and len(data) != length:
        raise MalformedRecord(f"{field}: expected {length} bytes, got {len(data)}")
    return data


def expect_fields(record: Any, required: Iterable[str], optional: Iterable[str] = (), *, what: str) -> dict:
    """The record is a dict with exactly these fields (unknown fields are refused, not ignored)."""
    if not isinstance(record, Mapping):
        raise MalformedRecord(f"{what}: expected an object")
    required, allowed = set(required), set(required) | set(optional)
    missing = required - set(record)
    extra = set(record) - allowed
    if missing or extra:
        raise MalformedRecord(f"{what}: missing {sorted(missing)} / unexpected {sorted(extra)}")
    return dict(record)


def expect_version(record: Mapping, suites: Iterable[str], *, what: str) -> str:
    """Dispatch on `v` and `suite`: refuse clearly what this code cannot read."""
    version = record.get("v")
    if type(version) is not int:
        raise MalformedRecord(f"{what}: `v` must be an integer")
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(f"{what}: format version {version} is not supported (this code reads {FORMAT_VERSION})")
    suite = record.get("suite")
    if not isinstance(suite, str) or suite not in set(suites):
        raise UnsupportedFormat(f"{what}: cipher suite {suite!r} is not supported")
    return suite


def expect_int(value: Any, *, field: str, minimum: int = 0, maximum: int = 2**53 - 1) -> int:
    if type(value) is not int or not minimum <= value <= maximum:
        raise MalformedRecord(f"{field}: expected an integer in [{minimum}, {maximum}]")
    return value


def expect_bool(value: Any, *, field: str) -> bool:
    if type(value) is not bool:
        raise MalformedRecord(f"{field}: expected true or false")
    return value


_IDENTIFIER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def expect_identifier(value: Any, *, field: str) -> str:
    """Slot, message, conversation and file identifiers: short printable ASCII, so they read the same everywhere."""
    if not isinstance(value, str) or not _IDENTIFIER_RE.fullmatch(value):
        raise MalformedRecord(f"{field}: expected an identifier of 1-128 characters [A-Za-z0-9_.:-]")
    return value


_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def expect_time(value: Any, *, field: str) -> str:
    """Times are UTC in ISO 8601 with a Z suffix, e.g. 2025-05-01T09:30:00Z."""
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
        raise MalformedRecord(f"{field}: expected a UTC time like 2025-05-01T09:30:00Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedRecord(f"{field}: not a valid time") from error
    return value


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format a moment (naive means UTC, as the database stores it) the way these formats record time."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def member_slot(member_id: int) -> str:
    return f"member:{int(member_id)}"


def authority_slot(authority_id: int) -> str:
    return f"authority:{int(authority_id)}"


def domain(label: str) -> bytes:
    """Domain separation prefix: what is being signed, hashed or bound, and in which format version."""
    return f"network/messaging/v{FORMAT_VERSION}/{label}\x00".encode()
