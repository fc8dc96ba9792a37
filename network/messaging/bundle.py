"""Export of a conversation as a self-contained bundle anyone can verify: envelopes, disclosed content keys,
signed receipts, the public keys, a readable rendering, and the exporter's signature over all of it."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature

from network.messaging.envelope import Envelope, OpenedMessage, open_with_content_key, verify_envelope
from network.messaging.formats import (
    FORMAT_VERSION,
    KEY_LENGTH,
    SIGNATURE_LENGTH,
    SUITE_BUNDLE,
    MalformedRecord,
    MessagingCryptoError,
    b64d,
    b64e,
    canonical,
    domain,
    expect_fields,
    expect_identifier,
    expect_int,
    expect_time,
    expect_version,
    utc_timestamp,
)
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys
from network.messaging.receipts import parse_receipt, verify_receipt

BUNDLE_KIND = "network-conversation-bundle"
_FIELDS = ("v", "suite", "kind", "conversation_id", "exported_by", "exported_by_key_version", "exported_at",
           "public_keys", "messages", "receipts", "rendering", "sig")


def _signing_input(bundle: Mapping) -> bytes:
    return domain("bundle") + canonical({name: value for name, value in bundle.items() if name != "sig"})


def export_bundle(messages: Sequence[tuple[Envelope, OpenedMessage | None]], receipts: Iterable[Mapping],
                  public_keys: Mapping[str, MemberPublicKeys | Iterable[MemberPublicKeys]], *,
                  conversation_id: str, exporter_slot: str, exporter_private: MemberPrivateKeys,
                  exported_at: str | None = None) -> dict:
    """A JSON-serialisable bundle. For each (envelope, opened) pair with an opened message, the content key
    is disclosed so a reader can check the text against the sender's signature; pass None to include a
    message without revealing it. public_keys: slot -> the keys (every version) of senders, receipt
    signers and the exporter. Write it with dump_bundle()."""
    key_rows = []
    for slot, keys in sorted(public_keys.items()):
        versions = [keys] if isinstance(keys, MemberPublicKeys) else list(keys)
        for key in sorted(versions, key=lambda k: k.key_version):
            key_rows.append({"slot": expect_identifier(slot, field="slot"), "keys": key.to_dict()})
    bundle = {
        "v": FORMAT_VERSION, "suite": SUITE_BUNDLE, "kind": BUNDLE_KIND,
        "conversation_id": expect_identifier(conversation_id, field="conversation_id"),
        "exported_by": expect_identifier(exporter_slot, field="exported_by"),
        "exported_by_key_version": exporter_private.key_version,
        "exported_at": expect_time(exported_at or utc_timestamp(), field="exported_at"),
        "public_keys": key_rows,
        "messages": [
            {"envelope": envelope.to_dict()} | ({"content_key": b64e(opened.content_key)} if opened else {})
            for envelope, opened in messages
        ],
        "receipts": [dict(receipt) for receipt in receipts],
    }
    bodies = {envelope.message_id: opened.body for envelope, opened in messages if opened}
    bundle["rendering"] = _render(bundle, [Envelope.from_dict(m["envelope"]) for m in bundle["messages"]], bodies)
    bundle["sig"] = b64e(exporter_private.signing_key.sign(_signing_input(bundle)))
    return bundle


def dump_bundle(bundle: Mapping) -> bytes:
    """The file form: indented, sorted JSON. verify_bundle_bytes accepts only this exact spelling."""
    return (json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _body_text(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"[{len(body)} bytes that are not text]"
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        subject = value.get("subject")
        return (f"Subject: {subject}\n" if isinstance(subject, str) and subject else "") + value["text"]
    return text


def _render(bundle: Mapping, envelopes: Sequence[Envelope], bodies: Mapping[str, bytes]) -> str:
    lines = [f"Conversation {bundle['conversation_id']}",
             f"Exported by {bundle['exported_by']} at {bundle['exported_at']}", ""]
    receipts: dict[str, list[str]] = {}
    for receipt in bundle["receipts"]:
        receipts.setdefault(receipt["message_id"], []).append(
            f"{receipt['kind']} by {receipt['recipient']} at {receipt['at']}"
        )
    for envelope in envelopes:
        header = envelope.header
        sender = header["sender"] + (f" for {header['on_behalf_of']}" if "on_behalf_of" in header else "")
        handling = [label for flag, label in (
            (header["handling"]["confidential"], "CONFIDENTIAL - art. 18 (20)"),
            (header["handling"]["limited_use"], "LIMITED USE - art. 18 (19)"),
            (header["urgent"], "URGENT")) if flag]
        lines += [f"--- Message {header['message_id']} ---",
                  f"From: {sender}", f"To: {', '.join(header['recipients'])}", f"Sent: {header['sent_at']}"]
        if handling:
            lines.append(f"Handling: {'; '.join(handling)}")
        for item in header.get("attachments", []):
            lines.append(f"Attachment: {item['file_id']} ({item['size']} bytes)")
        lines.append("")
        body = bodies.get(header["message_id"])
        lines += [_body_text(body) if body is not None else "[content not disclosed in this export]", ""]
        for line in receipts.get(header["message_id"], []):
            lines.append(f"Receipt: {line}")
        lines.append("")
    lines.append("Public key fingerprints (compare them with each member out of band):")
    for row in bundle["public_keys"]:
        lines.append(f"  {row['slot']} key {row['keys'].get('key_version')}: {row['keys'].get('fingerprint')}")
    return "\n".join(lines) + "\n"


@dataclass
class BundleReport:
    ok: bool = False
    conversation_id: str | None = None
    messages_verified: int = 0
    contents_verified: int = 0
    receipts_verified: int = 0
    fingerprints: list[tuple[str, int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"Bundle for conversation {self.conversation_id or '?'}: "
                 + ("VERIFIED" if self.ok else "NOT VERIFIED"),
                 f"  messages with a valid sender signature: {self.messages_verified}",
                 f"  disclosed contents matching the signed ciphertext: {self.contents_verified}",
                 f"  receipts with a valid recipient signature: {self.receipts_verified}",
                 "Public key fingerprints (compare them with each member out of band):"]
        lines += [f"  {slot} key {version}: {fingerprint}" for slot, version, fingerprint in self.fingerprints]
        if self.problems:
            lines.append("Problems:")
            lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


_FAILURES = (MessagingCryptoError, ValueError, TypeError, KeyError, AttributeError)


def verify_bundle(bundle: Any) -> BundleReport:
    """Check every signature (exporter, senders, receipt signers) with the keys in the bundle, every
    disclosed content against its ciphertext and commitment, and the rendering. Never raises on bad input."""
    report = BundleReport()
    try:
        _verify(bundle, report)
    except _FAILURES as error:
        report.problems.append(f"the bundle cannot be read: {error}")
    report.ok = not report.problems
    return report


def _verify(bundle: Any, report: BundleReport) -> None:
    bundle = expect_fields(bundle, _FIELDS, what="bundle")
    expect_version(bundle, [SUITE_BUNDLE], what="bundle")
    if bundle["kind"] != BUNDLE_KIND:
        raise MalformedRecord("not a conversation bundle")
    report.conversation_id = expect_identifier(bundle["conversation_id"], field="conversation_id")
    expect_time(bundle["exported_at"], field="exported_at")
    for name in ("public_keys", "messages", "receipts"):
        if not isinstance(bundle[name], list):
            raise MalformedRecord(f"bundle.{name}: expected a list")
    if not isinstance(bundle["rendering"], str):
        raise MalformedRecord("bundle.rendering: expected text")

    keys: dict[tuple[str, int], MemberPublicKeys] = {}
    for row in bundle["public_keys"]:
        row = expect_fields(row, ["slot", "keys"], what="public key entry")
        public = MemberPublicKeys.from_dict(row["keys"])
        slot = expect_identifier(row["slot"], field="slot")
        if (slot, public.key_version) in keys:
            raise MalformedRecord(f"two keys listed for {slot} version {public.key_version}")
        keys[(slot, public.key_version)] = public
        report.fingerprints.append((slot, public.key_version, public.fingerprint))

    exporter = keys.get((expect_identifier(bundle["exported_by"], field="exported_by"),
                         expect_int(bundle["exported_by_key_version"], field="exported_by_key_version")))
    if exporter is None:
        report.problems.append("the exporter's public key is not in the bundle")
    else:
        try:
            exporter.signing_key.verify(b64d(bundle["sig"], length=SIGNATURE_LENGTH, field="sig"),
                                        _signing_input(bundle))
        except InvalidSignature:
            report.problems.append("the exporter's signature over the bundle does not verify")

    envelopes: dict[str, Envelope] = {}
    ordered: list[Envelope] = []
    bodies: dict[str, bytes] = {}
    for position, item in enumerate(bundle["messages"], 1):
        try:
            item = expect_fields(item, ["envelope"], ["content_key"], what="message entry")
            envelope = Envelope.from_dict(item["envelope"])
            header = envelope.header
            where = f"message {position} ({header['message_id']})"
            ordered.append(envelope)
            if header["message_id"] in envelopes:
                report.problems.append(f"{where}: the message id appears twice (a replayed message)")
                continue
            sender = keys.get((header["sender"], header["sender_key_version"]))
            if sender is None:
                report.problems.append(f"{where}: the sender's public key is not in the bundle")
                continue
            verify_envelope(envelope, sender, expected_conversation_id=report.conversation_id)
            envelopes[header["message_id"]] = envelope
            report.messages_verified += 1
            if "content_key" in item:
                bodies[header["message_id"]] = open_with_content_key(
                    envelope, b64d(item["content_key"], length=KEY_LENGTH, field="content_key"))
                report.contents_verified += 1
        except _FAILURES as error:
            report.problems.append(f"message {position}: {error}")

    for position, receipt in enumerate(bundle["receipts"], 1):
        try:
            record = parse_receipt(receipt)
            where = f"receipt {position} ({record['kind']} by {record['recipient']})"
            signer = keys.get((record["recipient"], record["key_version"]))
            envelope = envelopes.get(record["message_id"])
            if signer is None:
                report.problems.append(f"{where}: the signer's public key is not in the bundle")
                continue
            if envelope is None:
                report.problems.append(f"{where}: names a message that is not verified in this bundle")
                continue
            verify_receipt(record, signer, message_id=envelope.message_id, envelope_digest=envelope.digest())
            addressed = set(envelope.header["recipients"])
            if record["recipient"] not in addressed and record.get("on_behalf_of") not in addressed:
                report.problems.append(f"{where}: the signer is not a recipient of that message")
                continue
            report.receipts_verified += 1
        except _FAILURES as error:
            report.problems.append(f"receipt {position}: {error}")

    if bundle["rendering"] != _render(bundle, ordered, bodies):
        report.problems.append("the readable rendering does not match the signed content")


def verify_bundle_bytes(data: bytes) -> BundleReport:
    """Verify a bundle file: it must also be byte-for-byte as dump_bundle wrote it."""
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        report = BundleReport(problems=[f"the file is not a JSON bundle: {error}"])
        return report
    report = verify_bundle(bundle)
    try:
        exact = dump_bundle(bundle) == data
    except (TypeError, ValueError):
        exact = False
    if not exact:
        report.problems.append("the file is not byte-for-byte as it was exported")
        report.ok = False
    return report
