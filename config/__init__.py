"""Settings, layered: defaults in code, the instance folder, NETWORK_* environment variables, overrides."""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from config import defaults

ENV_PREFIX = "NETWORK_"


def _coerce(raw: str, current: object) -> object:
    """Environment values are strings; give them the type of the default they replace."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, (list, dict)):
        return json.loads(raw)
    return raw


def _instance_secret(app: Flask, filename: str, generate: bool, nbytes: int) -> str | None:
    path = Path(app.instance_path) / filename
    if path.exists():
        return path.read_text().strip()
    if not generate:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def configure_settings(app: Flask, overrides: Mapping[str, object] | None = None) -> None:
    """Apply the four layers, then derive what follows from them and refuse unsafe production settings."""
    app.config.from_object(defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key, raw in os.environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            app.config[name] = _coerce(raw, app.config.get(name))
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)

    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{Path(app.instance_path) / 'network.db'}"
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri

    relaxed = bool(app.config["DEMO_MODE"] or app.config["TESTING"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key", relaxed, 48)
    if not app.config.get("MASTER_KEY"):
        app.config["MASTER_KEY"] = _instance_secret(app, "master_key", relaxed, 32)
    if not app.config["SECRET_KEY"] or len(str(app.config["SECRET_KEY"])) < 32:
        raise RuntimeError(
            "No real secret key: set NETWORK_SECRET_KEY (32+ characters) or run "
            "`flask --app app secrets init` to create one in the instance folder."
        )
    if not app.config["MASTER_KEY"]:
        raise RuntimeError(
            "No master key for data at rest: set NETWORK_MASTER_KEY or run `flask --app app secrets init`."
        )
    if not app.config.get("MAIL_BACKEND"):
        app.config["MAIL_BACKEND"] = "console" if app.config["DEMO_MODE"] else "smtp"
    explicit = set(overrides or ()) | {k[len(ENV_PREFIX):] for k in os.environ if k.startswith(ENV_PREFIX)}
    if app.config["DEMO_MODE"] and "SESSION_COOKIE_SECURE" not in explicit:
        app.config["SESSION_COOKIE_SECURE"] = False  # the demo is served over plain HTTP on 127.0.0.1
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    app.config["SESSION_COOKIE_NAME"] = "__Host-session" if secure else "session"
    app.config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"
