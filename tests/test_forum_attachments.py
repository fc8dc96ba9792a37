"""Forum attachments: size limit (413 for the request, a form error for the file), content sniffed against the
allow-list with the extension matching, polyglots and mismatches refused, zip bombs refused before extraction, path
tricks harmless, the EICAR test file refused; stored sealed under random ids; served only as downloads
(attachment, nosniff, no-store) and only to readers of the topic."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.test_forum import html

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# ---------------------------------------------------------------- sample files

def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def pdf(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog " + extra + b" >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def office(entries: dict[str, bytes], first: str | None = None, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first), entries.pop(first), compress_type=zipfile.ZIP_STORED
                             if stored_first else zipfile.ZIP_DEFLATED)
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


WORD = b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
SHEET = b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'


def docx() -> bytes:
    return office({"[Content_Types].xml": WORD, "word/document.xml": b"<w:document>Request</w:document>"})


def xlsx() -> bytes:
    return office({"[Content_Types].xml": SHEET, "xl/workbook.xml": b"<workbook/>"})


def odt(mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    return office({"mimetype": mimetype, "content.xml": b"<office:document-content/>"}, first="mimetype",
                  stored_first=True)


VALID = [("request.pdf", pdf()), ("scan.png", png()), ("photo.jpg", jpeg()), ("photo.jpeg", jpeg()),
         ("letter.docx", docx()), ("table.xlsx", xlsx()), ("note.odt", odt()),
         ("notes.txt", "Requête d'entraide – 資料\n".encode())]

REFUSED = {
    "pdf named png": ("a.png", pdf()),
    "png named pdf": ("a.pdf", png()),
    "jpeg named txt": ("a.txt", jpeg()),
    "docx named xlsx": ("a.xlsx", docx()),
    "xlsx named docx": ("a.docx", xlsx()),
    "odt named docx": ("a.docx", odt()),
    "text named pdf": ("a.pdf", b"just words"),
    "html named txt": ("a.txt", b"<html><script>alert(1)</script></html>"),
    "svg named png": ("a.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "gif named png": ("a.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
    "gifar": ("a.png", b"GIF89a\x01\x00\x01\x00" + docx()),
    "png with script appended": ("a.png", png() + b"<script>alert(1)</script>"),
    "jpeg with html inside": ("a.jpg", jpeg()[:-2] + b"<html><script>alert(1)</script>" + b"\xff\xd9"),
    "pdf with javascript": ("a.pdf", pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
    "pdf with launch action": ("a.pdf", pdf(b"/AA << /O << /S /Launch /F (cmd.exe) >> >>")),
    "pdf with embedded file": ("a.pdf", pdf(b"/Names << /EmbeddedFiles [] >>")),
    "windows program named pdf": ("a.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    "elf named txt": ("a.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 32),
    "php named txt": ("a.txt", b"<?php system($_GET['c']); ?>"),
    "php after text named txt": ("a.txt", b"Hello\n<?php system($_GET['c']); ?>"),
    "zip without office parts named docx": ("a.docx", office({"readme.txt": b"hello"})),
    "macro document named docx": ("a.docx", office({"[Content_Types].xml": WORD.replace(
        b"document.main+xml", b"document.macroEnabled.main+xml"), "word/document.xml": b"<w:document/>",
        "word/vbaProject.bin": b"\x00" * 10})),
    "zip with path escape named docx": ("a.docx", office({"[Content_Types].xml": WORD, "word/document.xml": b"x",
                                                         "../../evil.sh": b"rm -rf /"})),
    "text with nul bytes": ("a.txt", b"abc\x00def"),
    "utf-16 text": ("a.txt", "hello".encode("utf-16")),
    "double extension": ("request.pdf.exe", pdf()),
    "no extension": ("request", pdf()),
    "truncated jpeg": ("a.jpg", jpeg()[:-2]),
    "pdf without end": ("a.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n"),
    "xml stylesheet named txt": ("a.txt", b'<?xml-stylesheet href="x.xsl"?><a/>'),
    "rtf named docx": ("a.docx", b"{\\rtf1\\ansi hello}"),
    "spreadsheet odt mimetype": ("a.odt", odt(b"application/vnd.oasis.opendocument.spreadsheet")),
    "nul in the name": ("evil.txt\x00.png", b"plain words"),
}


# ---------------------------------------------------------------- checks

def test_every_allowed_type_is_accepted(app):
    from network.forum import attachments

    for name, data in VALID:
        checked = attachments.check(name, data)
        assert checked.filename == name, name


def test_polyglots_and_mismatched_files_are_refused(app):
    from network.forum import attachments
    from network.forum.services import ForumError

    assert len(REFUSED) >= 20
    accepted = []
    for label, (name, data) in REFUSED.items():
        try:
            attachments.check(name, data)
        except ForumError as error:
            assert error.field == "attachment"
        else:
            accepted.append(label)
    assert not accepted, f"accepted: {accepted}"


def _bomb(size: int) -> bytes:
    return office({"[Content_Types].xml": WORD, "word/document.xml": b"\x00" * size})


def test_a_zip_bomb_is_refused_before_anything_is_extracted(app, monkeypatch):
    from network.forum import attachments
    from network.forum.services import ForumError

    bombs = [_bomb(60 * 1024 * 1024), _bomb(5 * 1024 * 1024)]  # over the total, then over the ratio
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k))
    for data in bombs:
        assert len(data) < 200_000
        with pytest.raises(ForumError, match="zip bomb"):
            attachments.check("bomb.docx", data)
    assert opened == []


def test_the_eicar_test_file_is_refused_with_a_clear_message(app):
    from network.forum import attachments
    from network.forum.services import ForumError

    with pytest.raises(ForumError, match="virus signature"):
        attachments.check("eicar.txt", EICAR)
    with pytest.raises(ForumError, match="virus signature"):
        attachments.check("eicar.pdf", pdf(EICAR))


@pytest.mark.parametrize("raw, cleaned", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
    ("/absolute/path/notes.txt", "notes.txt"),
    ("...hidden.txt", "hidden.txt"),
    ("invoice\u202etxt.exe.txt", "invoicetxt.exe.txt"),
    ("Übersetzung – 資料.txt", "Übersetzung – 資料.txt"),
    ("tab\tand\nnewline.txt", "tabandnewline.txt"),
])
def test_names_are_cleaned_of_paths_and_control_characters(app, raw, cleaned):
    from network.core.filenames import clean_filename

    assert clean_filename(raw) == cleaned


# ---------------------------------------------------------------- upload and download over HTTP

def _upload(client, topic, name, data, body="Here is the file."):
    page = html(client.get(f"/forum/topics/{topic.id}"))
    return client.post(f"/forum/topics/{topic.id}/reply", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(page), "body": body, "attachment": (io.BytesIO(data), name)})


@pytest.mark.persistence
def test_an_attachment_is_sealed_under_a_random_id_and_served_only_as_a_download(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Attachment

    content = "Requête: the bank records of account 42\n".encode()
    client = auth.client_for(forum["insider"])
    response = _upload(client, forum["open_topic"], "../../Überweisung – 資料.txt", content)
    assert response.status_code == 302, html(response)
    stored = db.session.scalar(select(Attachment))
    assert stored.filename == "Überweisung – 資料.txt" and stored.kind == "txt"
    assert content not in stored.sealed and b"bank records" not in stored.sealed
    assert len(stored.storage_id) >= 32 and "/" not in stored.storage_id and "." not in stored.storage_id
    page = html(auth.client_for(forum["member"]).get(f"/forum/topics/{forum['open_topic'].id}"))
    assert f"/forum/attachments/{stored.storage_id}" in page
    download = auth.client_for(forum["member"]).get(f"/forum/attachments/{stored.storage_id}")
    assert download.status_code == 200 and download.data == content
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "/" not in disposition and ".." not in disposition
    assert "filename*=UTF-8''" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    assert download.headers["Content-Type"].startswith("text/plain")


def test_attachments_of_a_restricted_topic_are_not_served_to_outsiders(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Attachment

    response = _upload(auth.client_for(forum["insider"]), forum["secret"], "plan.pdf", pdf())
    assert response.status_code == 302
    stored = db.session.scalar(select(Attachment))
    url = f"/forum/attachments/{stored.storage_id}"
    assert auth.client_for(forum["outsider"]).get(url).status_code == 404
    assert auth.client_for(forum["member"]).get(url).status_code == 404
    assert auth.client_for(forum["space_moderator"]).get(url).status_code == 200
    assert auth.client_for(forum["outsider"]).get("/forum/attachments/not-a-real-id").status_code == 404


def test_a_refused_file_shows_the_form_error_and_publishes_nothing(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Attachment, Post

    before = db.session.scalar(select(Post.id).order_by(Post.id.desc()))
    client = auth.client_for(forum["insider"])
    response = _upload(client, forum["open_topic"], "eicar.txt", EICAR, body="Reply with a virus")
    assert response.status_code == 400 and "virus signature" in html(response)
    response = _upload(client, forum["open_topic"], "a.pdf", png())
    assert response.status_code == 400 and "not what its name says" in html(response)
    assert db.session.scalar(select(Post.id).order_by(Post.id.desc())) == before
    assert db.session.scalar(select(Attachment)) is None


@pytest.mark.config(FORUM_ATTACHMENT_MAX_BYTES=50_000)
def test_an_oversize_file_gets_a_form_error_and_an_oversize_request_413(app, auth, forum):
    client = auth.client_for(forum["insider"])
    response = _upload(client, forum["open_topic"], "big.txt", b"a" * 60_000)
    assert response.status_code == 400 and "larger than the forum accepts" in html(response)
    response = _upload(client, forum["open_topic"], "huge.txt", b"a" * (50_000 + 300 * 1024))
    assert response.status_code == 413


def test_a_new_topic_can_carry_an_attachment(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Attachment

    client = auth.client_for(forum["member"])
    page = html(client.get("/forum/spaces/general/new"))
    assert 'enctype="multipart/form-data"' in page
    response = client.post("/forum/spaces/general/new", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(page), "title": "Model request for bank records",
                                 "body": "Our model is attached.", "attachment": (io.BytesIO(docx()), "model.docx")})
    assert response.status_code == 302
    assert db.session.scalar(select(Attachment.kind)) == "docx"
