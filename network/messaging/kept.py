"""What a reader's session verified and decrypted, kept in this process's memory so that a page shown again does not
verify every signature and decapsulate every key again (as a messenger keeps the messages it has opened).

A kept plaintext is:
- in memory only (never on disk, never in the database or the session), bounded in entries, in bytes and in age;
- keyed by everything its opening depended on: the reader, the message's row and public id, the conversation, the
  exact stored envelope (its digest), the reader's slot and key version, the sender and the fingerprint of the
  sender's key the signature verified with, and the session that opened it;
- sealed (AES-256-GCM, the key above as associated data) under a key derived from that session's cookie token, which
  the server never stores: another member, another session, or the server once the session has ended, cannot read it;
- forgotten when the message is deleted and when the member's keys change (this process; another process's copy is
  keyed by the stored envelope and the keys, so it is never shown for a changed or deleted message either).
The row's clear columns are still checked against the signed header at every showing (services._check_stored_metadata).

Verified receipts are kept too (they are metadata in the clear, and only a success is kept, under everything the
check read): a sender's page shows the same receipts on every opening.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from network.core.crypto import SealError, derive_key, open_with_aead, seal_with_aead

ENTRIES = 4096  # plaintexts kept per process
BUDGET = 4 * 1024 * 1024  # bytes of sealed plaintext kept per process
MAX_AGE = 30 * 60  # seconds an opened message is kept after it was opened
LARGEST = 64 * 1024  # a longer message is opened again each time (it would crowd out the others)


class Sealer:
    """One session's key for what it keeps: derived from the session cookie's token, for one member; values sealed
    as every sealed value of the platform is (network.core.crypto, the key bound as the context)."""

    def __init__(self, token: str, member_id: int):
        key = derive_key(token.encode("utf-8"), f"network/messaging/kept-plaintext/{member_id}", 32 + 16)
        self.key = key[:32]
        self.key_id = key[32:].hex()  # names the session in the keys (not a secret: it opens nothing)
        # The key's cipher object, built once for the values of a page rather than once per value: it lives exactly
        # as long as the key beside it (a Sealer lives for one request: services._kept_sealer).
        self._aead = AESGCM(self.key)

    def seal(self, plaintext: bytes, bound: str) -> bytes:
        return seal_with_aead(self._aead, plaintext, bound)

    def open(self, sealed: bytes, bound: str) -> bytes | None:
        try:
            return open_with_aead(self._aead, sealed, bound)
        except SealError:
            return None


class KeptPlaintexts:
    """Sealed plaintexts by key (a tuple whose first two items are the reader's id and the message's row id), least
    recently used dropped first; the keys' representation is bound to each sealed value."""

    def __init__(self, entries: int = ENTRIES, budget: int = BUDGET, max_age: float = MAX_AGE,
                 clock: Callable[[], float] = time.monotonic):
        self.entries, self.budget, self.max_age, self.clock = entries, budget, max_age, clock
        self._kept: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._kept)

    def get(self, key: tuple, sealer: Sealer) -> bytes | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                self._drop(key)
                return None
            self._kept.move_to_end(key)
        return sealer.open(found[1], repr(key))

    def put(self, key: tuple, sealer: Sealer, plaintext: bytes) -> None:
        if len(plaintext) > LARGEST:
            return
        sealed = sealer.seal(plaintext, repr(key))
        with self._lock:
            if key in self._kept:
                self._drop(key)
            self._kept[key] = (self.clock() + self.max_age, sealed)
            self._size += len(sealed)
            while self._kept and (self._size > self.budget or len(self._kept) > self.entries):
                self._drop(next(iter(self._kept)))

    def forget(self, which: Callable[[tuple], bool]) -> None:
        with self._lock:
            for key in [key for key in self._kept if which(key)]:
                self._drop(key)

    def forget_member(self, member_id: int) -> None:
        """Their keys changed (a new set, a reset, a restore), or they left a mailbox."""
        self.forget(lambda key: key[0] == member_id)

    def forget_message(self, message_id: int) -> None:
        self.forget(lambda key: key[1] == message_id)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._size = 0

    def _drop(self, key: tuple) -> None:
        _expires, sealed = self._kept.pop(key)
        self._size -= len(sealed)


class VerifiedReceipts:
    """The receipts whose signature verified, by everything the check read; least recently used dropped first."""

    def __init__(self, entries: int = ENTRIES * 2):
        self.entries = entries
        self._kept: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            if key not in self._kept:
                return False
            self._kept.move_to_end(key)
            return True

    def add(self, key: Hashable) -> None:
        with self._lock:
            self._kept[key] = None
            self._kept.move_to_end(key)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


PLAINTEXTS = KeptPlaintexts()
RECEIPTS = VerifiedReceipts()
