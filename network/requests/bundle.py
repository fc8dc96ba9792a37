"""Export of a request record as a self-contained bundle anyone can verify (as conversations are exported): the clear
record, the sealed content and every event note with their content keys disclosed by the exporter, every signed
event of the chain, the public keys of the signers, and the exporter's signature over all of it.

`flask --app app requests verify FILE` checks it without the platform's database."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature

from network.messaging.envelope import open_message, open_with_content_key, verify_envelope
from network.messaging.formats import (
    FORMAT_VERSION,
    SIGNATURE_LENGTH,
    MessagingCryptoError,
    b64d,
    b64e,
    canonical,
    member_slot,
    utc_timestamp,
)
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys
from network.requests import crypto

SUITE_BUNDLE = "request-bundle/1"
BUNDLE_KIND = "network-request-bundle"
CLEAR_FIELDS = ("public_id", "form", "measures", "language", "requesting_state", "requested_state", "status",
                "requesting_reference", "requested_reference", "urgent", "confidential", "limited_use",
                "original_channel", "refusal_ground", "event_count", "head_digest")


def _signing_input(bundle: Mapping) -> bytes:
    return crypto._domain("bundle") + canonical({k: v for k, v in bundle.items() if k != "sig"})


def _sealed(data: bytes, key: bytes | None) -> dict:
    item = {"envelope": json.loads(data)}
    if key is not None:
        item["content_key"] = b64e(key)
    return item


def export_request(request, reader, privates: Mapping[int, MemberPrivateKeys], exporter_private: MemberPrivateKeys,
                   public_keys: Mapping[tuple[int, int], MemberPublicKeys]) -> dict:
    """The bundle of a request its reader can open. public_keys: (member id, key version) -> the keys of every
    signer (content and note authors, event signers)."""

    def disclosed(data: bytes) -> bytes | None:
        envelope = json.loads(data)
        for slot, private in crypto._slots_for(reader, request, privates):
            if any(w["slot"] == slot for w in envelope["wraps"]):
                sender = crypto._sender_public(envelope["header"])
                return open_message(data, slot, private, sender).content_key
        return None

    clear = {name: getattr(request, name) for name in CLEAR_FIELDS}
    clear["measures"] = list(clear["measures"] or [])
    clear["requesting_authority"] = request.requesting_authority.key
    clear["requested_authority"] = request.requested_authority.key
    for name in ("sent_at", "acknowledged_at", "completed_at"):
        value = getattr(request, name)
        clear[name] = utc_timestamp(value) if value else ""
    clear["original_sent_on"] = request.original_sent_on.isoformat() if request.original_sent_on else ""
    bundle = {
        "v": FORMAT_VERSION, "suite": SUITE_BUNDLE, "kind": BUNDLE_KIND, "request": clear,
        "content": _sealed(request.content, disclosed(request.content)),
        "events": [{"record": json.loads(e.record)} | ({"note": _sealed(e.note, disclosed(e.note))} if e.note else {})
                   for e in request.events],
        "public_keys": [{"slot": member_slot(member_id), "keys": key.to_dict()}
                        for (member_id, _version), key in sorted(public_keys.items())],
        "exported_by": member_slot(reader.id), "exported_by_key_version": exporter_private.key_version,
        "exported_at": utc_timestamp(),
    }
    bundle["sig"] = b64e(exporter_private.signing_key.sign(_signing_input(bundle)))
    return bundle


def dump_bundle(bundle: Mapping) -> bytes:
    return (json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class BundleReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    def render(self) -> str:
        verdict = "VERIFIED" if self.ok else "FAILED"
        return "\n".join([*self.lines, *[f"problem: {p}" for p in self.problems], verdict])


def _open(item: Mapping, keys: Mapping, request_id: str, report: BundleReport, what: str) -> dict | None:
    envelope = item.get("envelope")
    try:
        header = envelope["header"]
        sender = keys.get((header["sender"], header["sender_key_version"]))
        if sender is None:
            raise MessagingCryptoError("the author's key is not in the bundle")
        verify_envelope(envelope, sender, expected_conversation_id=request_id)
        if "content_key" not in item:
            report.lines.append(f"{what}: signature verified, content not disclosed")
            return None
        return json.loads(open_with_content_key(envelope, b64d(item["content_key"], length=32, field="content_key")))
    except (MessagingCryptoError, KeyError, TypeError, ValueError) as error:
        report.fail(f"{what}: {error}")
        return None


def verify_request_bundle(data: bytes) -> BundleReport:
    """Every signature (exporter, content, notes, events), the chain's order and links, and that each note and the
    content sent are the ones the events name."""
    report = BundleReport()
    try:
        bundle: Any = json.loads(data)
        if bundle.get("suite") != SUITE_BUNDLE or bundle.get("kind") != BUNDLE_KIND:
            raise ValueError("not a request bundle")
        keys = {}
        for row in bundle["public_keys"]:
            key = MemberPublicKeys.from_dict(row["keys"])
            keys[(row["slot"], key.key_version)] = key
        exporter = keys.get((bundle["exported_by"], bundle["exported_by_key_version"]))
        if exporter is None:
            raise ValueError("the exporter's key is not in the bundle")
        exporter.signing_key.verify(b64d(bundle["sig"], length=SIGNATURE_LENGTH, field="sig"), _signing_input(bundle))
        request = bundle["request"]
    except (InvalidSignature, MessagingCryptoError, KeyError, TypeError, ValueError, AttributeError) as error:
        report.fail(f"bundle: {error or 'the exporter signature does not verify'}")
        return report
    request_id = request["public_id"]
    report.lines.append(f"request {request_id}: {request['form']} {request['requesting_state']} -> "
                        f"{request['requested_state']}, status {request['status']}")
    content = _open(bundle["content"], keys, request_id, report, "content")
    if content is not None:
        report.lines.append(f"content: signature verified, {len(content.get('fields', {}))} fields disclosed")
    content_digest = crypto.content_digest(canonical(bundle["content"]["envelope"]))
    prev = ""
    for number, item in enumerate(bundle["events"], start=1):
        record = item.get("record", {})
        try:
            signer = keys.get((record["actor"], record["key_version"]))
            if signer is None:
                raise ValueError("the signer's key is not in the bundle")
            signer.signing_key.verify(b64d(record["sig"], length=SIGNATURE_LENGTH, field="sig"),
                                      crypto._domain("event") + canonical({k: v for k, v in record.items()
                                                                           if k != "sig"}))
        except (InvalidSignature, MessagingCryptoError, KeyError, TypeError, ValueError):
            report.fail(f"event {number}: the signature does not verify")
            continue
        if record.get("seq") != number or record.get("request") != request_id or record.get("prev") != prev:
            report.fail(f"event {number}: out of place, or not linked to the event before it")
        if record.get("content") and record["content"] != content_digest:
            report.fail(f"event {number}: names another content than the one in the bundle")
        if "note" in item:
            if record.get("note") != crypto.content_digest(canonical(item["note"]["envelope"])):
                report.fail(f"event {number}: the note differs from the signed one")
            _open(item["note"], keys, request_id, report, f"event {number} note")
        elif record.get("note"):
            report.fail(f"event {number}: its note is missing")
        prev = crypto.record_digest(record)
        report.lines.append(f"event {number}: {record.get('kind')} {record.get('status')} by {record.get('actor')} "
                            f"at {record.get('at')}: signature verified")
    if request.get("event_count") != len(bundle["events"]) or request.get("head_digest") != prev:
        report.fail("the newest events are missing from the bundle")
    return report
