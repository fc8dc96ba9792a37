"""Health checks that parts of the platform register when the app is built; /healthz runs them all.

The network never imports the catalogue: the catalogue registers its checks here (e.g. the search index)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app

log = logging.getLogger("network.health")
EXTENSION = "network.health"


def register_health_check(app: Flask, name: str, check: Callable[[], dict]) -> None:
    """`check()` returns a dict with at least "ok": bool; it may raise (reported as not ok)."""
    app.extensions.setdefault(EXTENSION, {})[name] = check


def run_health_checks() -> dict[str, dict]:
    results = {}
    for name, check in current_app.extensions.get(EXTENSION, {}).items():
        try:
            results[name] = dict(check())
        except Exception as error:  # report, never raise: this is what monitoring reads
            log.exception("health check %s failed", name)
            results[name] = {"ok": False, "error": type(error).__name__}
    return results
