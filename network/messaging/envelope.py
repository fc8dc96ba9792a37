"""Message envelopes (one encrypted body, a wrapped key per recipient, the sender's signature) and
attachments encrypted as authenticated chunk streams."""
from __future__ import annotations

import copy
import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from network.messaging.formats import (
    FORMAT_VERSION,
    HPKE_OVERHEAD,
    HPKE_SUITES,
    KEY_LENGTH,
    NONCE_LENGTH,
    SIGNATURE_LENGTH,
    SUITE_MESSAGE,
    SUITE_STREAM,
    BadSignature,
    ContentTampered,
    ContextMismatch,
    MalformedRecord,
    NotARecipient,
    StreamTampered,
    WrongRecipientKey,
    b64d,
    b64e,
    canonical,
    domain,
    expect_bool,
    expect_fields,
    expect_identifier,
    expect_int,
    expect_time,
    expect_version,
    parse_canonical,
    read_only,
)
from network.messaging.keys import (
    AuthorityPrivateKey,
    AuthorityPublicKey,
    MemberPrivateKeys,
    MemberPublicKeys,
)

MAX_RECIPIENTS = 200  # groups are capped at 50 by policy; the format allows headroom
WRAP_LENGTH = KEY_LENGTH + HPKE_OVERHEAD

_HEADER_REQUIRED = ("v", "suite", "message_id", "conversation_id", "sender", "sender_key_version", "recipients",
                    "sent_at", "handling", "urgent")
_HEADER_OPTIONAL = ("on_behalf_of", "in_reply_to", "attachments")


def _validate_header(header: Any) -> dict:
    """The header is metadata the server sees and the sender signs. Content (subject, text, file names)
    belongs in the encrypted body, never here, so unknown fields are refused."""
    header = expect_fields(header, _HEADER_REQUIRED, _HEADER_OPTIONAL, what="header")
    expect_version(header, [SUITE_MESSAGE], what="header")
    for name in ("message_id", "conversation_id", "sender"):
        expect_identifier(header[name], field=name)
    expect_int(header["sender_key_version"], field="sender_key_version", minimum=1)
    recipients = header["recipients"]
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise MalformedRecord(f"recipients: expected a list of 1-{MAX_RECIPIENTS} slots")
    for slot in recipients:
        expect_identifier(slot, field="recipient")
    if recipients != sorted(set(recipients)) or header["sender"] in recipients:
        raise MalformedRecord("recipients: sorted, unique, and not the sender")
    expect_time(header["sent_at"], field="sent_at")
    handling = expect_fields(header["handling"], ["confidential", "limited_use"], what="handling")
    expect_bool(handling["confidential"], field="handling.confidential")  # art. 18 (20)
    expect_bool(handling["limited_use"], field="handling.limited_use")  # art. 18 (19)
    expect_bool(header["urgent"], field="urgent")
    if "on_behalf_of" in header:
        expect_identifier(header["on_behalf_of"], field="on_behalf_of")
    if "in_reply_to" in header:
        expect_identifier(header["in_reply_to"], field="in_reply_to")
    if "attachments" in header:
        attachments = header["attachments"]
        if not isinstance(attachments, list) or not attachments:
            raise MalformedRecord("attachments: expected a non-empty list (or no field)")
        ids = [_validate_stream_header(item)["file_id"] for item in attachments]
        if len(set(ids)) != len(ids):
            raise MalformedRecord("attachments: file ids must be unique")
    return read_only(header)  # a deep copy nothing can change: it is signed, and may be shared (load_envelope)


def _wrap_info(header: Mapping, slot: str, key_version: int, purpose: str, file_id: str | None = None) -> bytes:
    """HPKE info: the wrap only opens for this format, message, sender, recipient slot and key version."""
    bound = {"v": header["v"], "suite": header["suite"], "purpose": purpose, "message_id": header["message_id"],
             "sender": header["sender"], "slot": slot, "key_version": key_version}
    if file_id is not None:
        bound["file_id"] = file_id
    return domain("wrap") + canonical(bound)


def _commitment(content_key: bytes) -> bytes:
    """Commits the sender to one content key: AES-GCM alone would let a crafted ciphertext open to two
    different bodies under two keys wrapped for two recipients."""
    return hashlib.sha256(domain("key-commitment") + content_key).digest()


def _content_aad(header: Mapping) -> bytes:
    return domain("content") + canonical(header)


def _seal_content(body: bytes, aad: bytes) -> tuple[bytes, bytes, bytes]:
    """A fresh 256-bit key and a fresh 96-bit nonce from the OS CSPRNG for every body: (key, nonce, ct)."""
    key, nonce = os.urandom(KEY_LENGTH), os.urandom(NONCE_LENGTH)
    return key, nonce, AESGCM(key).encrypt(nonce, body, aad)


@dataclass(frozen=True)
class Wrap:
    """A content key (and any attachment keys) wrapped with HPKE for one recipient slot."""

    slot: str
    key_version: int
    enc: bytes = field(repr=False)
    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict:
        record = {"v": FORMAT_VERSION, "suite": SUITE_MESSAGE, "slot": self.slot, "key_version": self.key_version,
                  "enc": b64e(self.enc)}
        if self.files:
            record["files"] = [{"id": file_id, "enc": b64e(enc)} for file_id, enc in self.files]
        return record

    @classmethod
    def from_dict(cls, record: Any) -> Wrap:
        record = expect_fields(record, ["v", "suite", "slot", "key_version", "enc"], ["files"], what="wrap")
        expect_version(record, [SUITE_MESSAGE], what="wrap")
        files: list[tuple[str, bytes]] = []
        if "files" in record:
            if not isinstance(record["files"], list) or not record["files"]:
                raise MalformedRecord("wrap.files: expected a non-empty list (or no field)")
            for item in record["files"]:
                item = expect_fields(item, ["id", "enc"], what="wrap.files")
                files.append((expect_identifier(item["id"], field="file id"),
                              b64d(item["enc"], length=WRAP_LENGTH, field="file enc")))
        return cls(slot=expect_identifier(record["slot"], field="slot"),
                   key_version=expect_int(record["key_version"], field="key_version", minimum=1),
                   enc=b64d(record["enc"], length=WRAP_LENGTH, field="enc"), files=tuple(files))

    def digest(self) -> str:
        return b64e(hashlib.sha256(domain("wrap-digest") + canonical(self.to_dict())).digest())


@dataclass(frozen=True)
class Envelope:
    """A stored message: header (clear, signed), body ciphertext, one wrap per slot, signature."""

    header: dict
    nonce: bytes = field(repr=False)
    ct: bytes = field(repr=False)
    commit: bytes = field(repr=False)
    wraps: tuple[Wrap, ...] = field(repr=False)
    sig: bytes = field(repr=False)
    # Set by from_dict only: this object was built from a record it checked, so load_envelope need not check it
    # again. An Envelope built any other way (encrypt_message, dataclasses.replace, a test) is re-validated.
    _validated: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def message_id(self) -> str:
        return self.header["message_id"]

    def wrap_for(self, slot: str) -> Wrap:
        for wrap in self.wraps:
            if wrap.slot == slot:
                return wrap
        raise NotARecipient(f"the message holds no key for {slot}")

    def _signed_part(self) -> dict:
        return {
            "v": FORMAT_VERSION, "suite": SUITE_MESSAGE, "header": self.header, "nonce": b64e(self.nonce),
            "ct_sha256": b64e(hashlib.sha256(self.ct).digest()), "commit": b64e(self.commit),
            "wraps": [{"slot": w.slot, "key_version": w.key_version, "digest": w.digest()} for w in self.wraps],
        }

    def _memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """compute() once per object, for an envelope from_dict built: its fields are bytes, tuples of frozen wraps
        and a read-only header, so what is derived from them cannot go stale. Any other envelope computes again."""
        if not self._validated:
            return compute()
        if name not in self.__dict__:
            self.__dict__[name] = compute()  # frozen dataclass: set once, here
        return self.__dict__[name]

    def signing_input(self) -> bytes:
        return self._memo("_signing_input", lambda: domain("envelope-signature") + canonical(self._signed_part()))

    def to_dict(self) -> dict:
        return {"v": FORMAT_VERSION, "suite": SUITE_MESSAGE, "header": copy.deepcopy(self.header),
                "nonce": b64e(self.nonce),
                "ct": b64e(self.ct), "commit": b64e(self.commit), "wraps": [w.to_dict() for w in self.wraps],
                "sig": b64e(self.sig)}

    def to_bytes(self) -> bytes:
        return canonical(self.to_dict())

    def digest(self) -> str:
        """What receipts name: SHA-256 over the canonical envelope, signature included."""
        return self._memo("_digest",
                          lambda: b64e(hashlib.sha256(domain("envelope-digest") + self.to_bytes()).digest()))

    def content_aad(self) -> bytes:
        return self._memo("_content_aad", lambda: _content_aad(self.header))

    @classmethod
    def from_dict(cls, record: Any) -> Envelope:
        record = expect_fields(record, ["v", "suite", "header", "nonce", "ct", "commit", "wraps", "sig"],
                               what="envelope")
        expect_version(record, [SUITE_MESSAGE], what="envelope")
        header = _validate_header(record["header"])
        if not isinstance(record["wraps"], list):
            raise MalformedRecord("envelope.wraps: expected a list")
        wraps = tuple(Wrap.from_dict(item) for item in record["wraps"])
        slots = [w.slot for w in wraps]
        if slots != sorted(set(header["recipients"]) | {header["sender"]}):
            raise MalformedRecord("envelope.wraps: one wrap per recipient and the sender, sorted by slot")
        file_ids = [item["file_id"] for item in header.get("attachments", [])]
        if any([file_id for file_id, _ in w.files] != file_ids for w in wraps):
            raise MalformedRecord("envelope.wraps: every wrap carries one key per attachment, in order")
        ct = b64d(record["ct"], field="ct")
        if len(ct) < 16:
            raise MalformedRecord("envelope.ct: too short")
        envelope = cls(header=header, nonce=b64d(record["nonce"], length=NONCE_LENGTH, field="nonce"), ct=ct,
                       commit=b64d(record["commit"], length=32, field="commit"), wraps=wraps,
                       sig=b64d(record["sig"], length=SIGNATURE_LENGTH, field="sig"))
        object.__setattr__(envelope, "_validated", True)  # frozen: set once, here
        return envelope

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        return cls.from_dict(parse_canonical(data))


# Stored envelopes parsed in this process, by their exact bytes: a conversation's page shows the same envelopes on
# every request, and parsing one (strict canonical JSON, every field checked) cost more than verifying its signature.
# Only what the database holds is kept (signed metadata, ciphertext, wrapped keys: never a key or a plaintext), and a
# parsed envelope cannot be changed (Envelope is frozen, its header read-only). Its signature is still verified, and
# its body decrypted, on every opening.
PARSED_BUDGET = 8 * 1024 * 1024  # bytes of stored envelopes kept parsed, per process
_parsed: OrderedDict[bytes, Envelope] = OrderedDict()
_parsed_size = 0
_parsed_lock = threading.Lock()


def _parse_stored(data: bytes) -> Envelope:
    global _parsed_size
    with _parsed_lock:
        found = _parsed.get(data)
        if found is not None:
            _parsed.move_to_end(data)
            return found
    envelope = Envelope.from_bytes(data)  # raises on anything malformed: nothing is kept
    if len(data) <= PARSED_BUDGET // 16:
        with _parsed_lock:
            if data not in _parsed:
                _parsed[data] = envelope
                _parsed_size += len(data)
                while _parsed_size > PARSED_BUDGET:
                    _parsed_size -= len(_parsed.popitem(last=False)[0])
    return envelope


def load_envelope(envelope: Envelope | Mapping | bytes) -> Envelope:
    """An Envelope from its stored forms. An Envelope object is re-validated too (structure is never assumed),
    unless from_dict built it: reading a page of messages would otherwise check each stored envelope twice. Stored
    bytes are parsed once per process (_parse_stored)."""
    if isinstance(envelope, Envelope):
        return envelope if envelope._validated else Envelope.from_dict(envelope.to_dict())
    if isinstance(envelope, bytes | bytearray | memoryview):
        return _parse_stored(bytes(envelope))
    return Envelope.from_dict(envelope)


@dataclass(frozen=True)
class OpenedMessage:
    """A verified, decrypted message. `content_key` is what a participant discloses in an export bundle."""

    header: dict
    body: bytes = field(repr=False)
    content_key: bytes = field(repr=False)
    file_keys: dict[str, bytes] = field(repr=False, default_factory=dict)

    @property
    def attachments(self) -> list[dict]:
        return list(self.header.get("attachments", []))


RecipientKey = MemberPublicKeys | AuthorityPublicKey
RecipientPrivate = MemberPrivateKeys | AuthorityPrivateKey


def encrypt_message(header: Mapping, body: bytes, sender_id: str, sender_signing_private: MemberPrivateKeys,
                    recipients: Mapping[str, RecipientKey], *,
                    attachments: Sequence[tuple[Mapping, bytes]] = ()) -> Envelope:
    """Encrypt `body` once under a fresh key, wrap that key for every recipient slot and for the sender's
    own slot (with the sender's own public key), and sign the whole.

    header: message_id, conversation_id, sent_at, handling {confidential, limited_use}, urgent, and
    optionally on_behalf_of (an authority slot) and in_reply_to. v, suite, sender, sender_key_version,
    recipients and attachments are filled in (if given they must agree). attachments: (stream header,
    file key) pairs from encrypt_stream; their keys are wrapped like the content key."""
    header = dict(header)
    slots = sorted(recipients)
    filled = {"v": FORMAT_VERSION, "suite": SUITE_MESSAGE, "sender": sender_id,
              "sender_key_version": sender_signing_private.key_version, "recipients": slots}
    if attachments:
        filled["attachments"] = [dict(stream_header) for stream_header, _ in attachments]
    for name, value in filled.items():
        if name in header and header[name] != value:
            raise MalformedRecord(f"header.{name} does not match the arguments")
    header = _validate_header(header | filled)
    keys: dict[str, RecipientKey] = dict(recipients) | {sender_id: sender_signing_private.public}
    file_keys = [(stream_header["file_id"], key) for stream_header, key in attachments]
    if any(len(key) != KEY_LENGTH for _, key in file_keys):
        raise ValueError("file keys are 32 bytes")

    content_key, nonce, ct = _seal_content(bytes(body), _content_aad(header))
    hpke_suite = HPKE_SUITES[SUITE_MESSAGE]
    wraps = []
    for slot in sorted(keys):
        public = keys[slot]
        version = public.key_version
        enc = hpke_suite.encrypt(content_key, public.kem_key, info=_wrap_info(header, slot, version, "content"))
        files = tuple(
            (file_id, hpke_suite.encrypt(key, public.kem_key, info=_wrap_info(header, slot, version, "file", file_id)))
            for file_id, key in file_keys
        )
        wraps.append(Wrap(slot=slot, key_version=version, enc=enc, files=files))
    unsigned = Envelope(header=header, nonce=nonce, ct=ct, commit=_commitment(content_key), wraps=tuple(wraps),
                        sig=b"")
    return _sign(unsigned, sender_signing_private)


def _sign(envelope: Envelope, sender: MemberPrivateKeys) -> Envelope:
    signature = sender.signing_key.sign(envelope.signing_input())
    return Envelope(header=envelope.header, nonce=envelope.nonce, ct=envelope.ct, commit=envelope.commit,
                    wraps=envelope.wraps, sig=signature)


def _signing_public(sender: MemberPublicKeys | Ed25519PublicKey, header: Mapping) -> Ed25519PublicKey:
    if isinstance(sender, MemberPublicKeys):
        if sender.key_version != header["sender_key_version"]:
            raise BadSignature(f"signed with key version {header['sender_key_version']} of the sender, "
                               f"not {sender.key_version}")
        return sender.signing_key
    return sender


def verify_envelope(envelope: Envelope | Mapping | bytes, sender_signing_public: MemberPublicKeys | Ed25519PublicKey,
                    *, expected_message_id: str | None = None,
                    expected_conversation_id: str | None = None) -> Envelope:
    """Check structure and the sender's signature (no decryption): what the server does before storing,
    and what a reader of an export bundle does."""
    envelope = load_envelope(envelope)
    try:
        _signing_public(sender_signing_public, envelope.header).verify(envelope.sig, envelope.signing_input())
    except InvalidSignature as error:
        raise BadSignature("the sender's signature does not verify: the message was changed or is not theirs") from error
    if expected_message_id is not None and envelope.header["message_id"] != expected_message_id:
        raise ContextMismatch("this envelope belongs to another message")
    if expected_conversation_id is not None and envelope.header["conversation_id"] != expected_conversation_id:
        raise ContextMismatch("this envelope belongs to another conversation")
    return envelope


def _private_for(recipient_private: RecipientPrivate | Mapping[int, RecipientPrivate], wrap: Wrap) -> RecipientPrivate:
    if isinstance(recipient_private, Mapping):
        if wrap.key_version not in recipient_private:
            raise WrongRecipientKey(f"no private key of version {wrap.key_version} for {wrap.slot}")
        recipient_private = recipient_private[wrap.key_version]
    if recipient_private.key_version != wrap.key_version:
        raise WrongRecipientKey(f"the wrap for {wrap.slot} is for key version {wrap.key_version}")
    return recipient_private


def open_message(envelope: Envelope | Mapping | bytes, recipient_slot_id: str,
                 recipient_private: RecipientPrivate | Mapping[int, RecipientPrivate],
                 sender_signing_public: MemberPublicKeys | Ed25519PublicKey, *,
                 expected_message_id: str | None = None, expected_conversation_id: str | None = None) -> OpenedMessage:
    """Verify the signature first, then unwrap this slot's key and decrypt. Any failure raises a
    MessagingCryptoError subclass and returns nothing. recipient_private may map key versions to keys
    (an authority mailbox holder keeps every version granted to them)."""
    envelope = verify_envelope(envelope, sender_signing_public, expected_message_id=expected_message_id,
                               expected_conversation_id=expected_conversation_id)
    wrap = envelope.wrap_for(recipient_slot_id)
    private = _private_for(recipient_private, wrap)
    hpke_suite = HPKE_SUITES[SUITE_MESSAGE]
    header = envelope.header
    try:
        content_key = hpke_suite.decrypt(wrap.enc, private.kem_key,
                                         info=_wrap_info(header, wrap.slot, wrap.key_version, "content"))
        file_keys = {
            file_id: hpke_suite.decrypt(enc, private.kem_key,
                                        info=_wrap_info(header, wrap.slot, wrap.key_version, "file", file_id))
            for file_id, enc in wrap.files
        }
    except (InvalidTag, ValueError) as error:
        raise WrongRecipientKey(f"the key wrapped for {wrap.slot} does not open with this private key") from error
    body = _decrypt_body(envelope, content_key)
    return OpenedMessage(header=header, body=body, content_key=content_key, file_keys=file_keys)


def open_with_content_key(envelope: Envelope | Mapping | bytes, content_key: bytes) -> bytes:
    """Decrypt the body with a disclosed content key (export bundles). Checks the sender's key commitment;
    verify the signature first (verify_envelope)."""
    return _decrypt_body(load_envelope(envelope), content_key)


def _decrypt_body(envelope: Envelope, content_key: bytes) -> bytes:
    if len(content_key) != KEY_LENGTH or not hmac.compare_digest(_commitment(content_key), envelope.commit):
        raise ContentTampered("the content key is not the one the sender committed to")
    try:
        return AESGCM(content_key).decrypt(envelope.nonce, envelope.ct, envelope.content_aad())
    except InvalidTag as error:
        raise ContentTampered("the message body does not match its header") from error


# --- attachments: chunked AES-256-GCM (the STREAM construction) -----------------------------------------

DEFAULT_CHUNK_SIZE = 64 * 1024
_CHUNK_SIZES = (1024, 1024 * 1024)
_PREFIX_LENGTH = 8
_MAX_CHUNKS = 2**32 - 1
_TAG = 16


def _validate_stream_header(header: Any) -> dict:
    header = expect_fields(header, ["v", "suite", "file_id", "chunk_size", "prefix", "size", "chunks"],
                           what="stream header")
    expect_version(header, [SUITE_STREAM], what="stream header")
    expect_identifier(header["file_id"], field="file_id")
    chunk_size = expect_int(header["chunk_size"], field="chunk_size", minimum=_CHUNK_SIZES[0], maximum=_CHUNK_SIZES[1])
    b64d(header["prefix"], length=_PREFIX_LENGTH, field="prefix")
    size = expect_int(header["size"], field="size")
    chunks = expect_int(header["chunks"], field="chunks", minimum=1, maximum=_MAX_CHUNKS)
    if chunks != max(1, -(-size // chunk_size)):
        raise MalformedRecord("stream header: size and chunk count disagree")
    return header


def _chunk_aad(header: Mapping, index: int, final: bool) -> bytes:
    bound = {name: header[name] for name in ("v", "suite", "file_id", "chunk_size", "prefix")}
    return domain("stream-chunk") + canonical(bound) + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _chunk_nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _read_exactly(src: IO[bytes], size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = src.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def encrypt_stream(src: IO[bytes], dst: IO[bytes], *, file_id: str,
                   chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[bytes, dict]:
    """Encrypt a file in chunks under a fresh file key. Returns (file key, stream header); pass both to
    encrypt_message(attachments=...) so the key is wrapped per recipient and the header signed.

    Chunk i: AES-256-GCM, nonce = 8-byte random prefix || i (32-bit), associated data = header binding ||
    i || final flag, so dropping, reordering or appending chunks is detected."""
    header = {"v": FORMAT_VERSION, "suite": SUITE_STREAM, "file_id": expect_identifier(file_id, field="file_id"),
              "chunk_size": expect_int(chunk_size, field="chunk_size", minimum=_CHUNK_SIZES[0], maximum=_CHUNK_SIZES[1]),
              "prefix": b64e(os.urandom(_PREFIX_LENGTH))}
    key = os.urandom(KEY_LENGTH)
    aead, prefix = AESGCM(key), b64d(header["prefix"])
    index, size = 0, 0
    chunk = _read_exactly(src, chunk_size)
    while True:
        following = _read_exactly(src, chunk_size) if len(chunk) == chunk_size else b""
        final = not following
        if index > _MAX_CHUNKS:
            raise ValueError("file too large for one stream")
        dst.write(aead.encrypt(_chunk_nonce(prefix, index), chunk, _chunk_aad(header, index, final)))
        size += len(chunk)
        index += 1
        if final:
            break
        chunk = following
    return key, _validate_stream_header(header | {"size": size, "chunks": index})


def iter_decrypt_stream(src: IO[bytes], file_key: bytes, header: Mapping) -> Iterator[bytes]:
    """Yield authenticated plaintext chunks. A StreamTampered raised at any point (including after the last
    chunk) means the whole file must be discarded: abort the download, delete any partial output."""
    header = _validate_stream_header(header)
    aead, prefix = AESGCM(file_key), b64d(header["prefix"])
    sealed_size = header["chunk_size"] + _TAG
    chunk = _read_exactly(src, sealed_size)
    size = 0
    for index in range(header["chunks"]):
        final = index == header["chunks"] - 1
        following = b"" if final else _read_exactly(src, sealed_size)
        try:
            plain = aead.decrypt(_chunk_nonce(prefix, index), chunk, _chunk_aad(header, index, final))
        except InvalidTag as error:
            raise StreamTampered(f"chunk {index} does not authenticate (changed, reordered or truncated file)") from error
        size += len(plain)
        yield plain
        chunk = following
    if src.read(1):
        raise StreamTampered("data after the final chunk (the file was extended)")
    if size != header["size"]:
        raise StreamTampered("the decrypted size differs from the signed size")


def decrypt_stream(src: IO[bytes], dst: IO[bytes], file_key: bytes, header: Mapping) -> int:
    """Decrypt a whole attachment into dst; returns the plaintext size. On StreamTampered, discard dst."""
    written = 0
    for plain in iter_decrypt_stream(src, file_key, header):
        dst.write(plain)
        written += len(plain)
    return written

