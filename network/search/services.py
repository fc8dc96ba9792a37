"""The search layer in the application: registering the kinds (outbox events, health check), each kind's engine
built once per app, the once-per-process consistency check before a kind's first search, the rate limit.

Settings are in config/defaults.py (SEARCH_*): SEARCH_BACKEND picks the engines ("" : PostgreSQL full-text search
on PostgreSQL, Whoosh otherwise), SEARCH_INDEX_PATH the Whoosh folder of the first kind (the others sit next to it,
"search-index-posts", "search-index-authorities")."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app, request

from network.search import outbox
from network.search.kinds import IndexKind, kind_named, register_kinds, registered


def state_key(kind: str) -> str:
    """The app.extensions key of a kind's engine and check state ({"backend": ..., "checked": ...})."""
    return f"network.search.{kind}"


def configure_search(app: Flask, kinds: Iterable[IndexKind]) -> None:
    """Register the kinds (in the order the one box shows them), the outbox's session events and /healthz's
    "search" check."""
    from network.core.health import register_health_check

    register_kinds(app, kinds)
    for kind in registered(app):
        app.extensions[state_key(kind.name)] = {"backend": None, "checked": False}
    outbox.install()
    register_health_check(app, "search", health)


def engine_choice(app: Flask) -> str:
    """"whoosh" or "postgres" (SEARCH_BACKEND, or by the database when it is empty)."""
    choice = app.config["SEARCH_BACKEND"]
    if not choice:
        choice = "postgres" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "whoosh"
    if choice not in ("whoosh", "postgres"):
        raise RuntimeError(f"SEARCH_BACKEND must be whoosh or postgres, not {choice!r}")
    return choice


def whoosh_path(app: Flask, kind: str | None = None) -> Path:
    """The Whoosh folder of the cases (SEARCH_INDEX_PATH or <instance>/search-index), or of another kind next to
    it ("search-index" -> "search-index-posts")."""
    base = Path(app.config["SEARCH_INDEX_PATH"] or Path(app.instance_path) / "search-index")
    return base if kind is None else base.with_name(f"{base.name}-{kind}")


def index_of(kind: str):
    """The kind's engine (a SearchBackend), built on first use."""
    state = current_app.extensions[state_key(kind)]
    if state["backend"] is None:
        state["backend"] = kind_named(kind).make_index(current_app)
    return state["backend"]


def ensure_checked(kind: str) -> None:
    """Once per process, before a kind's first search: the embedded index is in step with the database."""
    state = current_app.extensions[state_key(kind)]
    if not state["checked"]:
        state["checked"] = True
        if current_app.config["SEARCH_INDEX_ON_COMMIT"]:
            from network.search.indexer import ensure_consistent

            ensure_consistent(kind)


def over_rate_limit() -> bool:
    """Counts one text search of this client; True once it is over SEARCH_RATE_LIMIT in the window."""
    from network.core.ratelimit import counter

    config = current_app.config
    key = f"search:{request.remote_addr or 'unknown'}"
    return counter().add(key, int(config["SEARCH_RATE_WINDOW"])) > int(config["SEARCH_RATE_LIMIT"])


def health() -> dict:
    """For /healthz: per kind, its documents indexed and expected and its outbox's size and age. The embedded
    default rebuilds an index here when the counts differ. Not ok when a kind is out of step or lags more than
    SEARCH_MAX_LAG seconds."""
    from network.search.indexer import ensure_consistent, status

    repair = current_app.config["SEARCH_INDEX_ON_COMMIT"]
    max_lag = float(current_app.config["SEARCH_MAX_LAG"])
    kinds = {}
    for kind in registered():
        current = ensure_consistent(kind.name) if repair else status(kind.name)
        kinds[kind.name] = {"ok": current.in_step and current.lag_seconds <= max_lag, "backend": current.backend,
                            "indexed": current.indexed, "expected": current.expected, "queued": current.queued,
                            "lag_seconds": round(current.lag_seconds, 1)}
    return {"ok": all(k["ok"] for k in kinds.values()), "kinds": kinds}
