"""Crypto primitives for data at rest: AES-256-GCM sealing under the master key, tokens, HKDF."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SEAL_VERSION = 1  # envelope format: version byte, 12-byte nonce, ciphertext with 16-byte tag


class SealError(Exception):
    """Sealed data could not be opened: wrong key, wrong context, or tampered bytes."""


def derive_key(secret: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(secret)


def _master_key(purpose: str) -> bytes:
    master = str(current_app.config["MASTER_KEY"]).encode()
    return derive_key(master, f"network/master/{purpose}")


def seal_with_key(key: bytes, plaintext: bytes, context: str) -> bytes:
    """Encrypt with AES-256-GCM; the context is authenticated so a value cannot be moved to another field."""
    return seal_with_aead(AESGCM(key), plaintext, context)


def open_with_key(key: bytes, sealed: bytes, context: str) -> bytes:
    return open_with_aead(AESGCM(key), sealed, context)


def seal_with_aead(aead: AESGCM, plaintext: bytes, context: str) -> bytes:
    """seal_with_key with the key's AES-256-GCM object, for a caller that seals or opens many values under one key
    (building the object costs more than opening a short value); a fresh random nonce every time, as there."""
    nonce = os.urandom(12)
    return bytes([SEAL_VERSION]) + nonce + aead.encrypt(nonce, plaintext, context.encode())


def open_with_aead(aead: AESGCM, sealed: bytes, context: str) -> bytes:
    if len(sealed) < 29 or sealed[0] != SEAL_VERSION:
        raise SealError("unknown envelope version")
    try:
        return aead.decrypt(sealed[1:13], sealed[13:], context.encode())
    except Exception as error:  # InvalidTag and malformed input alike
        raise SealError("the sealed value does not open") from error


def seal(plaintext: bytes, context: str) -> bytes:
    """Seal a value under the platform's master key (kept outside the database)."""
    return seal_with_key(_master_key("seal"), plaintext, context)


def unseal(sealed: bytes, context: str) -> bytes:
    return open_with_key(_master_key("seal"), sealed, context)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token from the operating system's CSPRNG (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """What the database stores of a bearer token: its SHA-256, so a stolen table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
