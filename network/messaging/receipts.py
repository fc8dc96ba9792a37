"""Delivery and read receipts, signed by the recipient so the sender holds proof that can be checked later."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from network.messaging.formats import (
    FORMAT_VERSION,
    SIGNATURE_LENGTH,
    SUITE_RECEIPT,
    MalformedRecord,
    ReceiptInvalid,
    UnsupportedFormat,
    b64d,
    b64e,
    canonical,
    domain,
    expect_fields,
    expect_identifier,
    expect_int,
    expect_time,
    expect_version,
)
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys

RECEIPT_KINDS = ("delivered", "read")
_FIELDS = ("v", "suite", "kind", "message_id", "envelope_digest", "recipient", "key_version", "at", "sig")


def _signing_input(record: Mapping) -> bytes:
    return domain("receipt") + canonical({name: value for name, value in record.items() if name != "sig"})


def sign_receipt(kind: str, message_id: str, envelope_digest: str, recipient: str, time: str,
                 recipient_signing_private: MemberPrivateKeys, *, on_behalf_of: str | None = None) -> dict:
    """kind is "delivered" (reached the recipient's session) or "read" (opened). envelope_digest is
    Envelope.digest(); recipient is the signer's slot; on_behalf_of names the authority mailbox, if any."""
    if kind not in RECEIPT_KINDS:
        raise ValueError(f"receipt kind must be one of {RECEIPT_KINDS}")
    record = {
        "v": FORMAT_VERSION, "suite": SUITE_RECEIPT, "kind": kind,
        "message_id": expect_identifier(message_id, field="message_id"),
        "envelope_digest": b64e(b64d(envelope_digest, length=32, field="envelope_digest")),
        "recipient": expect_identifier(recipient, field="recipient"),
        "key_version": recipient_signing_private.key_version, "at": expect_time(time, field="at"),
    }
    if on_behalf_of is not None:
        record["on_behalf_of"] = expect_identifier(on_behalf_of, field="on_behalf_of")
    record["sig"] = b64e(recipient_signing_private.signing_key.sign(_signing_input(record)))
    return record


def parse_receipt(receipt: Any) -> dict:
    """Structure only (no signature check)."""
    record = expect_fields(receipt, _FIELDS, ["on_behalf_of"], what="receipt")
    expect_version(record, [SUITE_RECEIPT], what="receipt")
    if record["kind"] not in RECEIPT_KINDS:
        raise UnsupportedFormat(f"receipt: unknown kind {record['kind']!r}")
    expect_identifier(record["message_id"], field="message_id")
    b64d(record["envelope_digest"], length=32, field="envelope_digest")
    expect_identifier(record["recipient"], field="recipient")
    expect_int(record["key_version"], field="key_version", minimum=1)
    expect_time(record["at"], field="at")
    if "on_behalf_of" in record:
        expect_identifier(record["on_behalf_of"], field="on_behalf_of")
    b64d(record["sig"], length=SIGNATURE_LENGTH, field="sig")
    return record


def verify_receipt(receipt: Any, recipient_signing_public: MemberPublicKeys | Ed25519PublicKey, *,
                   message_id: str | None = None, envelope_digest: str | None = None,
                   recipient: str | None = None) -> dict:
    """The receipt's record if its signature verifies and it names what the caller expects; else ReceiptInvalid."""
    try:
        record = parse_receipt(receipt)
    except (MalformedRecord, UnsupportedFormat) as error:
        raise ReceiptInvalid(f"unreadable receipt: {error}") from error
    public = recipient_signing_public
    if isinstance(public, MemberPublicKeys):
        if public.key_version != record["key_version"]:
            raise ReceiptInvalid("the receipt was signed with another key version")
        public = public.signing_key
    try:
        public.verify(b64d(record["sig"]), _signing_input(record))
    except InvalidSignature as error:
        raise ReceiptInvalid("the receipt's signature does not verify") from error
    for name, expected in (("message_id", message_id), ("envelope_digest", envelope_digest), ("recipient", recipient)):
        if expected is not None and record[name] != expected:
            raise ReceiptInvalid(f"the receipt names another {name.replace('_', ' ')}")
    return record
