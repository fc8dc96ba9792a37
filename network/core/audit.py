"""The audit log: append-only entries, each chained to the one before under a key the database does not hold,
and signed checkpoints kept outside the database, so edits, forged entries and removals show."""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from network.core.clock import utcnow
from network.core.crypto import derive_key
from network.core.db import db

GENESIS = "0" * 64
LEGACY, KEYED = 1, 2  # chain_version: 1 = plain SHA-256 (written before the keyed chain), 2 = HMAC-SHA256
CHECKPOINT_EVERY = 100  # default of AUDIT_CHECKPOINT_EVERY
CHECKPOINT_FILE = "audit-checkpoints.jsonl"  # default of AUDIT_CHECKPOINT_PATH, in the instance folder
MAX_PROBLEMS = 20
log = logging.getLogger("network.audit")


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(320), default="", nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    address: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    details: Mapped[str] = mapped_column(Text, default="{}", nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # A row written without it (not by record()) counts as unkeyed, which verify refuses after keyed entries.
    chain_version: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=KEYED, server_default="1")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"

    def payload(self) -> dict:
        return entry_payload({name: getattr(self, name) for name in PAYLOAD_FIELDS})

    @property
    def details_dict(self) -> dict:
        try:
            return json.loads(self.details)
        except ValueError:
            return {}


class AuditHead(db.Model):
    """One row: the last entry's id and hash. Every append updates it before it reads anything of the chain,
    which takes SQLite's write lock and PostgreSQL's row lock: appends queue here, one after the other."""
    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    legacy_count: Mapped[int] = mapped_column(Integer, nullable=False)  # unkeyed entries from before the keyed chain

    def __repr__(self) -> str:
        return f"<AuditHead {self.last_id}>"


ENTRIES = AuditEntry.__table__
HEAD = AuditHead.__table__
PAYLOAD_FIELDS = ("id", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id", "address",
                  "details")


def entry_payload(row) -> dict:
    """What the hash or HMAC covers: every column but the chain's own."""
    payload = {name: row[name] for name in PAYLOAD_FIELDS}
    payload["created_at"] = row["created_at"].isoformat(timespec="microseconds")
    return payload


def _canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, payload: dict) -> str:
    """The unkeyed link of entries written before the keyed chain (chain_version 1): anyone can recompute it."""
    return hashlib.sha256((prev_hash + "\n" + _canonical(payload)).encode()).hexdigest()


def chain_mac(key: bytes, prev_hash: str, payload: dict) -> str:
    """The keyed link (chain_version 2): HMAC-SHA256 under a key derived from the master key."""
    message = prev_hash + "\n" + _canonical({**payload, "chain_version": KEYED})
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _derived(purpose: str) -> bytes:
    """The master key lives outside the database (instance folder or environment), and so do these keys."""
    return derive_key(str(current_app.config["MASTER_KEY"]).encode(), f"network/master/{purpose}")


def chain_key() -> bytes:
    return _derived("audit-chain")


def checkpoint_key() -> bytes:
    return _derived("audit-checkpoint")


def checkpoint_path() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_PATH") or ""
    return Path(configured) if configured else Path(current_app.instance_path) / CHECKPOINT_FILE


# ---------------------------------------------------------------- appending

def _take_head() -> tuple[int, str, int]:
    """Claim the next id: write first, then read. On SQLite the UPDATE takes the database's write lock before
    this transaction has read anything of the chain (a waiter waits, under the busy timeout); on PostgreSQL it
    takes the row lock and then reads the committed row. Returns (new id, previous hash, legacy count)."""
    claim = (HEAD.update().where(HEAD.c.id == 1).values(last_id=HEAD.c.last_id + 1)
             .returning(HEAD.c.last_id, HEAD.c.last_hash, HEAD.c.legacy_count))
    row = db.session.execute(claim).first()
    if row is None:
        _seed_head()
        row = db.session.execute(claim).one()
    return row.last_id, row.last_hash, row.legacy_count


def _seed_head() -> None:
    """The head row is missing (a database emptied table by table): rebuild it from the entries. Two seeders at
    once insert the same row; the second one's insert does nothing."""
    last = db.session.execute(select(ENTRIES.c.id, ENTRIES.c.entry_hash).order_by(ENTRIES.c.id.desc()).limit(1)).first()
    legacy = db.session.scalar(select(func.coalesce(func.max(ENTRIES.c.id), 0)).where(ENTRIES.c.chain_version == LEGACY))
    db.session.execute(
        text("INSERT INTO audit_head (id, last_id, last_hash, legacy_count) VALUES (1, :last_id, :last_hash, :legacy)"
             " ON CONFLICT (id) DO NOTHING"),
        {"last_id": last.id if last else 0, "last_hash": last.entry_hash if last else GENESIS, "legacy": legacy},
    )


def record(action: str, target: object | None = None, *, actor: object | None = None, **details: object) -> AuditEntry:
    """Append an entry in the current transaction. Actor defaults to the signed-in member."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry_id, prev_hash, legacy = _take_head()
    entry = AuditEntry(
        id=entry_id,
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "") or "") if target is not None else "",
        address=(request.remote_addr or "") if has_request_context() else "cli",
        details=json.dumps(details, sort_keys=True, default=str),
        prev_hash=prev_hash,
        chain_version=KEYED,
    )
    entry.entry_hash = chain_mac(chain_key(), prev_hash, entry.payload())
    db.session.add(entry)
    db.session.flush()
    db.session.execute(HEAD.update().where(HEAD.c.id == 1).values(last_hash=entry.entry_hash))
    every = int(current_app.config.get("AUDIT_CHECKPOINT_EVERY") or CHECKPOINT_EVERY)
    if entry_id == legacy + 1 or entry_id % every == 0:
        # Written after the commit, never before: a checkpoint must not name an entry that was rolled back.
        db.session.info["audit_checkpoint"] = (db.engine, checkpoint_key(), checkpoint_path())
    return entry


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    due = session.info.pop("audit_checkpoint", None)
    if due is None:
        return
    engine, key, path = due
    try:
        head = read_head(engine)
        if head is not None:
            append_checkpoint(path, key, *head)
    except Exception:  # the request has committed: a checkpoint that could not be written must not undo that
        log.exception("audit checkpoint not written to %s", path)


@event.listens_for(Session, "after_rollback")
def _no_checkpoint_after_rollback(session: Session) -> None:
    session.info.pop("audit_checkpoint", None)


def read_head(engine: Engine) -> tuple[int, str, int] | None:
    """The committed head, read on a connection of its own."""
    with engine.connect() as connection:
        row = connection.execute(select(HEAD.c.last_id, HEAD.c.last_hash, HEAD.c.legacy_count)).first()
    return (row.last_id, row.last_hash, row.legacy_count) if row and row.last_id else None


# ---------------------------------------------------------------- checkpoints, outside the database

def _checkpoint_mac(key: bytes, fields: dict) -> str:
    return hmac.new(key, ("audit-checkpoint\n" + _canonical(fields)).encode(), hashlib.sha256).hexdigest()


def append_checkpoint(path: Path, key: bytes, head_id: int, head_hash: str, legacy: int) -> dict | None:
    """Append a signed checkpoint (mode 0600, under an exclusive lock, fsynced); None when the last one already
    names this head. Refuses to extend a file whose last line does not verify."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 8192))
        tail = [line for line in handle.read().splitlines() if line.strip()]
        number = 1
        if tail:
            last = _parse_checkpoint(tail[-1].decode("utf-8", "replace"), key)
            if last is None:
                raise ValueError(f"the last line of {path} is not a valid checkpoint; not extending it")
            if last["head_id"] == head_id and last["head_hash"] == head_hash:
                return None
            number = last["n"] + 1
        fields = {"n": number, "head_id": head_id, "head_hash": head_hash, "count": head_id, "legacy": legacy,
                  "at": utcnow().isoformat(timespec="seconds") + "Z"}
        checkpoint = {**fields, "mac": _checkpoint_mac(key, fields)}
        handle.write((json.dumps(checkpoint, sort_keys=True) + "\n").encode())
        handle.flush()
        os.fsync(handle.fileno())
    return checkpoint


def _parse_checkpoint(line: str, key: bytes) -> dict | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"n", "head_id", "head_hash", "count", "legacy", "at", "mac"}:
        return None
    fields = {name: value for name, value in data.items() if name != "mac"}
    if not isinstance(data["mac"], str) or not hmac.compare_digest(_checkpoint_mac(key, fields), data["mac"]):
        return None
    return data


def read_checkpoints(path: Path, key: bytes) -> tuple[list[dict], list[str]]:
    """Every checkpoint of the file, and what is wrong with the file: a line that does not verify, a gap."""
    checkpoints: list[dict] = []
    problems: list[str] = []
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        checkpoint = _parse_checkpoint(line, key)
        if checkpoint is None:
            problems.append(f"the checkpoint file {path} is forged or damaged: checkpoint {number} does not verify")
            continue
        if checkpoint["n"] != number:
            problems.append(f"the checkpoint file {path} is forged or damaged: line {number} holds checkpoint "
                            f"{checkpoint['n']} (checkpoints were removed or reordered)")
        checkpoints.append(checkpoint)
    return checkpoints, problems


# ---------------------------------------------------------------- verifying

@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0
    head: tuple[int, str, int] | None = None  # (last id, last hash, unkeyed entries) of the verified chain


def verify_chain(batch: int = 1000, path: Path | None = None, *, missing_file_ok: bool = False) -> ChainReport:
    """Walk the chain in id order and check every link and HMAC, then the chain head row and every checkpoint.
    Names each entry that was changed, forged or removed and each checkpoint the chain no longer matches."""
    key, path = chain_key(), path or checkpoint_path()
    problems: list[str] = []
    first_bad: list[int] = []

    def problem(entry_id: int | None, sentence: str) -> None:
        problems.append(sentence)
        if entry_id is not None and not first_bad:
            first_bad.append(entry_id)

    checkpoints: list[dict] = []
    file_missing = not path.exists()
    if not file_missing:
        checkpoints, file_problems = read_checkpoints(path, checkpoint_key())
        problems.extend(file_problems)
    watched = {c["head_id"] for c in checkpoints}
    hash_at: dict[int, str] = {}
    # The head is read before and after the walk: appends that commit meanwhile are no removal and no forgery.
    head_before = db.session.scalar(select(HEAD.c.last_id))

    prev_hash, expected_id, checked, last_id = GENESIS, 1, 0, 0
    legacy = keyed = 0
    while True:
        rows = db.session.execute(
            select(ENTRIES).where(ENTRIES.c.id > last_id).order_by(ENTRIES.c.id).limit(batch)).mappings().all()
        if not rows:
            break
        for row in rows:
            entry_id = row["id"]
            if entry_id != expected_id:
                problem(expected_id, f"entry {expected_id} was removed (the chain continues at entry {entry_id})"
                        if entry_id == expected_id + 1 else
                        f"entries {expected_id} to {entry_id - 1} were removed (the chain continues at entry {entry_id})")
            elif row["prev_hash"] != prev_hash:
                problem(entry_id, f"entry {entry_id} does not follow its predecessor")
            if row["chain_version"] == KEYED:
                keyed += 1
                expected = chain_mac(key, row["prev_hash"], entry_payload(row))
            elif row["chain_version"] == LEGACY and not keyed:
                legacy += 1
                expected = chain_hash(row["prev_hash"], entry_payload(row))
            else:  # an unkeyed entry after keyed ones, or a version no code writes
                expected = None
            if expected is None or not hmac.compare_digest(expected, row["entry_hash"]):
                problem(entry_id, f"entry {entry_id} was changed after it was written")
            if entry_id in watched:
                hash_at[entry_id] = row["entry_hash"]
            prev_hash, expected_id, last_id = row["entry_hash"], entry_id + 1, entry_id
            checked += 1

    head = db.session.execute(select(HEAD.c.last_id, HEAD.c.last_hash)).first()
    if head_before is not None and head_before > last_id:
        problem(last_id + 1, f"entry {head_before} was removed from the end of the chain (the chain head says "
                             f"{head_before})" if head_before == last_id + 1 else
                f"entries {last_id + 1} to {head_before} were removed from the end of the chain "
                f"(the chain head says {head_before})")
    elif head is not None and head.last_id < last_id:
        problem(head.last_id + 1, f"entries {head.last_id + 1} to {last_id} were added without the chain head")
    elif head is not None and last_id and head.last_id == last_id and head.last_hash != prev_hash:
        problem(last_id, f"the chain head does not match entry {last_id}")
    elif head is None and last_id:
        problem(None, "the chain head record is missing")

    if file_missing and keyed and not missing_file_ok:
        problem(None, f"the checkpoint file {path} is missing: keyed entries exist, so checkpoints were written to it")
    longest = max(checkpoints, key=lambda c: c["count"], default=None)
    if longest is not None and longest["count"] > last_id:
        problem(last_id + 1, f"the chain is shorter than checkpoint {longest['n']} says: entries were removed "
                             f"(checkpoint {longest['n']} counts {longest['count']} entries, the chain has {last_id})")
    for checkpoint in checkpoints:
        number, head_id = checkpoint["n"], checkpoint["head_id"]
        if head_id in hash_at and hash_at[head_id] != checkpoint["head_hash"]:
            problem(None, f"entries were rewritten after checkpoint {number} (head {head_id}) was taken: "
                          f"entry {head_id} no longer has the hash the checkpoint holds")
        elif head_id in hash_at and checkpoint["legacy"] != legacy:
            problem(None, f"entries were rewritten after checkpoint {number} (head {head_id}) was taken: it counts "
                          f"{checkpoint['legacy']} unkeyed entries, the chain has {legacy}")

    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"… and {len(problems) - MAX_PROBLEMS} more problems"]
    return ChainReport(
        ok=not problems, checked=checked, first_bad_id=first_bad[0] if first_bad else None,
        problem=problems[0] if problems else "", problems=problems, checkpoints=len(checkpoints),
        head=(last_id, prev_hash, legacy) if last_id else None,
    )


def write_checkpoint(report: ChainReport, path: Path | None = None) -> dict | None:
    """Append a checkpoint of the head a clean verification saw; None when the last checkpoint already names it."""
    if not report.ok or report.head is None:
        return None
    return append_checkpoint(path or checkpoint_path(), checkpoint_key(), *report.head)
