"""Files at rest: the instance folder and everything the application writes there are private to its user.

The SQLite database (and its -wal, -shm and -journal files, which SQLite creates with the database's mode),
the messaging attachments, the Whoosh index, the generated secrets and the audit checkpoints hold members-only
cases, restricted posts and moderators' notes: folders are 0700 and files 0600 whatever the umask. New files are
created that way; at start-up everything is checked again and anything looser is tightened, with a warning in
the security log. A production start that cannot tighten a file (not its owner, a read-only mount) is refused.
"""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from flask import Flask
from sqlalchemy.engine import make_url

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

security_log = logging.getLogger("network.security")


def private_folder(path: Path | str) -> Path:
    """Create the folder (and missing parents) as 0700; tighten it if it exists with more."""
    folder = Path(path)
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        os.chmod(folder, PRIVATE_FOLDER)
    return folder


def open_private(path: Path | str, mode: str = "wb") -> IO:
    """Open a new file for writing as 0600 (never readable by others, not even for a moment)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode through os.open
    return os.fdopen(fd, mode)


def sqlite_path(app: Flask) -> Path | None:
    """The file of the SQLite database, or None (PostgreSQL, an in-memory database)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return None
    return Path(url.database)


def _places(app: Flask) -> Iterator[Path]:
    """Everything the application writes: the instance folder, and the places a setting moved out of it."""
    yield Path(app.instance_path)
    database = sqlite_path(app)
    if database is not None:
        yield database
        yield from (database.with_name(database.name + suffix) for suffix in SQLITE_COMPANIONS)
    for key in ("MESSAGING_FILES_FOLDER", "SEARCH_INDEX_PATH", "AUDIT_CHECKPOINT_PATH"):
        if app.config.get(key):
            yield Path(app.config[key])


def _walk(path: Path) -> Iterator[tuple[Path, bool]]:
    """(path, is_folder) of the path and, for a folder, of everything below it; symbolic links are not followed."""
    if path.is_symlink() or not path.exists():
        return
    if not path.is_dir():
        yield path, False
        return
    yield path, True
    for root, folders, files in os.walk(path):
        for name in folders:
            child = Path(root) / name
            if not child.is_symlink():
                yield child, True
        for name in files:
            child = Path(root) / name
            if not child.is_symlink():
                yield child, False


def loose_paths(app: Flask) -> list[tuple[Path, int]]:
    """Paths the application writes that others may read, enter or write, with their mode."""
    found, seen = [], set()
    for place in _places(app):
        for path, _is_folder in _walk(place):
            if path in seen:
                continue
            seen.add(path)
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077:
                found.append((path, mode))
    return found


def secure_files_at_rest(app: Flask) -> None:
    """At start-up: the instance folder is 0700, a missing SQLite database is created empty as 0600 (SQLite gives
    its -wal and -shm files the database's mode), and anything looser is tightened and reported."""
    private_folder(app.instance_path)
    database = sqlite_path(app)
    if database is not None and not database.exists() and database.parent.is_dir():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    tightened, refused = [], []
    for path, mode in loose_paths(app):
        try:
            os.chmod(path, mode & (PRIVATE_FOLDER if path.is_dir() else PRIVATE_FILE))
            tightened.append(f"{path} ({mode:04o})")
        except OSError as error:
            refused.append(f"{path} ({mode:04o}: {error.strerror})")
    if tightened:
        security_log.warning("files at rest: %d paths were readable by others and are now private (folders 0700, "
                             "files 0600): %s", len(tightened), ", ".join(tightened[:10]))
    if refused:
        message = ("files at rest: cannot make these private to the application's user (folders 0700, files "
                   "0600): " + ", ".join(refused[:10]))
        if app.config["TESTING"] or app.config["DEMO_MODE"]:
            security_log.error(message)
        else:
            raise RuntimeError(message + ". Fix the owner or the mode, then start again (docs/operator-guide.md).")
