"""Passwords: Argon2id hashing (argon2-cffi) and a length-and-breach policy without composition rules (ASVS 6.2)."""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


def hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@functools.cache
def _dummy_hash(params: tuple[int, int, int]) -> str:
    return PasswordHasher(*params).hash("not-a-real-password-for-timing-only")


def burn_time(password: str) -> None:
    """Spend the time a real verification would, so unknown accounts cannot be told apart by timing."""
    config = current_app.config
    verify_password(
        _dummy_hash((config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])), password
    )


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (list vendored from Django, BSD licence)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def password_problems(password: str, email: str = "") -> list[str]:
    """What is wrong with a new password; empty when it is acceptable. Any character is allowed."""
    config = current_app.config
    minimum, maximum = config["PASSWORD_MIN_LENGTH"], config["PASSWORD_MAX_LENGTH"]
    problems = []
    if len(password) < minimum:
        problems.append(_("Use at least %(n)d characters. A phrase of several words is easy to remember.", n=minimum))
    elif len(password) > maximum:
        problems.append(_("Use at most %(n)d characters.", n=maximum))
    elif password.lower() in common_passwords():
        problems.append(_("This password is among the most common ones and is easy to guess. Choose another."))
    elif email and password.lower() in {email.lower(), email.split("@")[0].lower()}:
        problems.append(_("Do not use your e-mail address as your password."))
    return problems
