"""Attachments on forum posts: checked (size, EICAR test signature, content sniffed against an allow-list, the
extension must match, office files are zips whose entries are checked before anything is extracted), sealed under
the master key and stored in the forum_attachments table under a random storage id; served only as downloads.

Storage in a table, not the instance folder: a file lives and dies with its post in one transaction, backups of
the database hold it (sealed), and no name a member chose ever reaches a file system path.

The EICAR check is a signature test only: real malware scanning needs an antivirus such as ClamAV, whose
signatures must be downloaded (see docs/security/)."""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import defer

from network.core.audit import record
from network.core.clock import utcnow
from network.core.crypto import seal, unseal
from network.core.db import db
from network.core.filenames import clean_filename
from network.forum.models import Attachment, Post
from network.forum.services import ForumError
from network.members.models import Member

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "txt": "text/plain; charset=utf-8",
}
EXTENSIONS = {"pdf": ("pdf",), "png": ("png",), "jpeg": ("jpg", "jpeg"), "docx": ("docx",), "xlsx": ("xlsx",),
              "odt": ("odt",), "txt": ("txt",)}
ALLOWED_LABEL = "PDF, PNG, JPEG, DOCX, XLSX, ODT, TXT"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# Markup or script that makes a file something else too (a polyglot): refused in any allowed type.
ACTIVE_MARKERS = (b"<script", b"<html", b"<!doctype html", b"<?php", b"<svg", b"<iframe", b"<body", b"<object",
                  b"<embed", b"<?xml-stylesheet", b"javascript:")
PDF_ACTIVE = (b"/javascript", b"/js ", b"/js(", b"/js<", b"/launch", b"/embeddedfile", b"/openaction", b"/aa ",
              b"/aa<", b"/richmedia", b"/xfa")
MAX_ZIP_ENTRIES = 1000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Checked:
    kind: str
    filename: str


def _refuse(message: str) -> ForumError:
    return ForumError(message, "attachment")


def _mismatch() -> ForumError:
    return _refuse(_("This file is not what its name says, or not a type the forum accepts (%(types)s).",
                     types=ALLOWED_LABEL))


def _has_active(data: bytes) -> bool:
    head = data[:65536].lower()
    return any(marker in head for marker in ACTIVE_MARKERS)


def _sniff_zip(data: bytes) -> str:
    """docx, xlsx or odt, judged from the central directory (sizes, names, ratio) before any entry is read; then
    only small, bounded reads of the entries that say what the document is."""
    config = current_app.config
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _mismatch() from error
    if not entries or len(entries) > MAX_ZIP_ENTRIES:
        raise _refuse(_("This archive has too many entries."))
    total = sum(entry.file_size for entry in entries)
    if total > config["FORUM_ATTACHMENT_MAX_UNZIPPED"]:
        raise _refuse(_("This document unpacks to more than the forum accepts (a possible zip bomb)."))
    ratio = config["FORUM_ATTACHMENT_MAX_RATIO"]
    if total > ratio * max(len(data), 1):
        raise _refuse(_("This document is compressed suspiciously much (a possible zip bomb)."))
    names = set()
    for entry in entries:
        name = entry.filename
        if entry.file_size > ratio * max(entry.compress_size, 1) and entry.file_size > 1_000_000:
            raise _refuse(_("This document is compressed suspiciously much (a possible zip bomb)."))
        if entry.flag_bits & 0x1:
            raise _refuse(_("Encrypted documents are not accepted."))
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name or "\x00" in name:
            raise _mismatch()
        lowered = name.lower()
        if lowered.endswith(("vbaproject.bin", ".exe", ".dll", ".js", ".vbs", ".jar", ".zip", ".bat", ".ps1",
                             ".html", ".htm", ".svg")) or lowered.startswith("basic/") or lowered.startswith("scripts/"):
            raise _refuse(_("Documents with macros, scripts or embedded programs are not accepted."))
        names.add(name)

    def small(name: str, limit: int = 200_000) -> bytes:
        info = archive.getinfo(name)
        if info.file_size > limit:
            raise _mismatch()
        with archive.open(info) as handle:
            return handle.read(limit + 1)[:limit]

    try:
        if "mimetype" in names and entries[0].filename == "mimetype":
            if small("mimetype").strip() == b"application/vnd.oasis.opendocument.text" and "content.xml" in names:
                return "odt"
            raise _mismatch()
        if "[Content_Types].xml" in names:
            types = small("[Content_Types].xml").lower()
            if b"macroenabled" in types:
                raise _refuse(_("Documents with macros, scripts or embedded programs are not accepted."))
            if "word/document.xml" in names and b"wordprocessingml.document.main+xml" in types:
                return "docx"
            if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main+xml" in types:
                return "xlsx"
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError) as error:
        raise _mismatch() from error
    raise _mismatch()


def sniff(data: bytes) -> str:
    """The allowed type this content is, or ForumError. Types are judged by content only."""
    if data.startswith(b"%PDF-"):
        if _has_active(data) or any(marker in data.lower() for marker in PDF_ACTIVE):
            raise _refuse(_("PDF files with scripts, actions or embedded files are not accepted."))
        if b"%%EOF" not in data[-1024:]:
            raise _mismatch()
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if data[12:16] != b"IHDR" or not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82") or _has_active(data):
            raise _mismatch()
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9") or _has_active(data):
            raise _mismatch()
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _mismatch() from error
    if any(ch in text for ch in "\x00\x7f") or CONTROL.search(text.replace("\t", "").replace("\n", "")
                                                              .replace("\r", "").replace("\f", "")):
        raise _mismatch()
    if _has_active(data) or text.lstrip("\ufeff \t\r\n").startswith("<"):
        raise _refuse(_("Text files with markup or script are not accepted; send it as a PDF."))
    return "txt"


def check(filename: str | None, data: bytes) -> Checked:
    limit = current_app.config["FORUM_ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise _refuse(_("The file is larger than the forum accepts (%(mb)s MB at most).",
                        mb=f"{limit / 1024 / 1024:g}"))
    if not data:
        raise _refuse(_("The file is empty."))
    if EICAR in data:
        raise _refuse(_("The file carries a virus signature (the EICAR test file) and was refused."))
    name = clean_filename(filename)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kind = sniff(data)
    if extension not in EXTENSIONS[kind]:
        raise _mismatch()
    return Checked(kind, name)


def attach(member: Member, post: Post, filename: str | None, data: bytes) -> Attachment:
    """Check the file, seal it and store it on the post (its author only). Flushes, never commits."""
    if post.author_id != member.id:
        raise _refuse(_("Only the post's author adds files to it."))
    checked = check(filename, data)
    storage_id = secrets.token_urlsafe(24)
    attachment = Attachment(storage_id=storage_id, post_id=post.id, uploader_id=member.id, filename=checked.filename,
                            kind=checked.kind, content_type=CONTENT_TYPES[checked.kind], size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), sealed=seal(data, _context(storage_id)),
                            created_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    record("forum.attachment_added", attachment, actor=member, post=post.id, kind=checked.kind, size=len(data),
           sha256=attachment.sha256)
    return attachment


def _context(storage_id: str) -> str:
    return f"forum/attachment/{storage_id}"


def content(attachment: Attachment) -> bytes:
    return unseal(attachment.sealed, _context(attachment.storage_id))


def of_posts(post_ids: list[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    if not post_ids:
        return found
    rows = db.session.scalars(select(Attachment).options(defer(Attachment.sealed))
                              .where(Attachment.post_id.in_(post_ids)).order_by(Attachment.id))
    for attachment in rows:
        found.setdefault(attachment.post_id, []).append(attachment)
    return found
