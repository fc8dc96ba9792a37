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
    problems = []
    if not app.config["SECRET_KEY"] or len(str(app.config["SECRET_KEY"])) < 32:
        problems.append("No real secret key: set NETWORK_SECRET_KEY (32+ characters) or run "
                        "`flask --app app secrets init` to create one in the instance folder.")
    if not app.config["MASTER_KEY"]:
        problems.append("No master key for data at rest: set NETWORK_MASTER_KEY or run `flask --app app secrets init`.")
    if problems:
        _refuse_without_secrets(app, " ".join(problems))
    if not app.config.get("MAIL_BACKEND"):
        app.config["MAIL_BACKEND"] = "console" if app.config["DEMO_MODE"] else "smtp"
    explicit = set(overrides or ()) | {k[len(ENV_PREFIX):] for k in os.environ if k.startswith(ENV_PREFIX)}
    if app.config["DEMO_MODE"] and "SESSION_COOKIE_SECURE" not in explicit:
        app.config["SESSION_COOKIE_SECURE"] = False  # the demo is served over plain HTTP on 127.0.0.1
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    app.config["SESSION_COOKIE_NAME"] = "__Host-session" if secure else "session"
    app.config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"
    if not relaxed:
        check_throttle_storage(app)


def _loaded_by_flask_cli() -> bool:
    """Is the `flask` command loading the app to find and run one of its commands (not a WSGI server)?"""
    import click
    from flask.cli import ScriptInfo

    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None


def _refuse_without_secrets(app: Flask, message: str) -> None:
    """Production refuses to start without its keys. One exception: `flask --app app secrets init`, which creates
    them, must be able to load the app first. So the flask command gets an app whose every other command refuses
    to run (with the message, exit 1) and whose every request or shell fails; a WSGI server or any other caller
    is refused here and now."""
    if not _loaded_by_flask_cli():
        raise RuntimeError(message)
    import click
    from flask import appcontext_pushed

    def refuse_command(*_args: object, **_kwargs: object) -> None:
        raise click.ClickException(message)

    find_command = app.cli.get_command

    def get_command(context: click.Context, name: str) -> click.Command | None:
        command = find_command(context, name)
        if command is None or name == "secrets":
            return command
        return click.Command(name, callback=refuse_command, add_help_option=False,
                             context_settings={"ignore_unknown_options": True, "allow_extra_args": True})

    app.cli.get_command = get_command  # type: ignore[method-assign]

    def refuse_context(sender: Flask, **_extra: object) -> None:
        context = click.get_current_context(silent=True)
        if context is not None and (context.parent is None
                                    or context.command_path.split()[-2:] == ["secrets", "init"]):
            return  # the flask command loading the app (its commands refuse above), or secrets init itself
        raise click.ClickException(message) if context is not None else RuntimeError(message)

    app.extensions["network.refuse_without_secrets"] = refuse_context  # signals hold their receivers weakly
    appcontext_pushed.connect(refuse_context, app)


def server_workers(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int | None:
    """How many worker processes the WSGI server that loads this app runs, when it says so: gunicorn's --workers
    (command line, then GUNICORN_CMD_ARGS, then WEB_CONCURRENCY, as gunicorn reads them). None when the process is
    not gunicorn's, or its count is not known here (a configuration file)."""
    import sys

    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    program = Path(argv[0]) if argv else Path()
    if not (program.name.startswith("gunicorn") or program.parent.name == "gunicorn"):  # gunicorn, python -m gunicorn
        return None
    try:
        from gunicorn.config import Config

        parser = Config().parser()
        for args in (argv[1:], environ.get("GUNICORN_CMD_ARGS", "").split()):
            parsed, _rest = parser.parse_known_args(args)
            if parsed.workers:
                return int(parsed.workers)
    except (ImportError, SystemExit, ValueError):
        return None
    if environ.get("WEB_CONCURRENCY", "").isdigit():
        return int(environ["WEB_CONCURRENCY"])
    if any(a in ("-c", "--config") or a.startswith("--config=") for a in argv[1:]) \
            or Path("gunicorn.conf.py").exists():
        return None  # the configuration file may set workers: not counted here
    return 1  # gunicorn's default


def check_throttle_storage(app: Flask, argv: list[str] | None = None,
                           environ: Mapping[str, str] | None = None) -> None:
    """`memory://` counts sign-in failures per process: with N gunicorn workers the limit is N times what it says.
    A production start that is known to run several workers with it is refused (a throttle that silently allows
    four times its limit is a security control switched off, and a warning in a log nobody reads fixes nothing); a
    start whose worker count cannot be known here (one worker, a configuration file, another server) is warned
    about loudly in the security log, once per application. The flask command's own runs are left alone: commands do
    not throttle."""
    import logging

    if not str(app.config.get("RATELIMIT_STORAGE_URL", "")).startswith("memory://") \
            and app.config.get("RATELIMIT_STORAGE_URL"):
        return
    workers = server_workers(argv, environ)
    if workers is not None and workers > 1:
        raise RuntimeError(
            f"RATELIMIT_STORAGE_URL is memory:// with {workers} server workers: each process would count sign-in "
            f"failures on its own, so the limits would be {workers} times what they say. Set "
            "NETWORK_RATELIMIT_STORAGE_URL=redis://host:6379/0 (docs/operator-guide.md, \"Running several "
            "application servers\"), or run one worker."
        )
    if workers is None and _loaded_by_flask_cli():
        return
    if not app.extensions.get("network.memory_throttle_warned"):
        app.extensions["network.memory_throttle_warned"] = True
        logging.getLogger("network.security").error(
            "RATELIMIT_STORAGE_URL is memory://: sign-in and other throttles count in this process only. Correct "
            "with exactly one server process on one machine; with several processes or servers the limits multiply. "
            "Set NETWORK_RATELIMIT_STORAGE_URL=redis://host:6379/0 (docs/operator-guide.md).")
