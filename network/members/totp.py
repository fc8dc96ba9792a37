"""Time-based one-time passwords (RFC 6238): enrolment, single-use verification, recovery codes."""
from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
import segno

from network.core.clock import utcnow

STEP = 30
ISSUER = "Practitioners Network"
RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits from the OS CSPRNG


def current_step() -> int:
    return int(_epoch()) // STEP


def _epoch() -> float:
    from datetime import UTC

    return utcnow().replace(tzinfo=UTC).timestamp()


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def match_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step the code belongs to (now, or one step either side), if not used before; else None."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    now = current_step()
    for step in (now - 1, now, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    import io

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue()


def new_recovery_codes() -> list[str]:
    """Ten codes of 12 characters (about 59 bits each) in groups of four."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_hash(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
