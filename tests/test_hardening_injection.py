"""Text that reaches a CSV cell, a log line or a file name header (issue 12, findings 6, 7 and 10): formula cells
are neutralised whatever blank or full-width character comes first, a CR LF in a URL cannot write a line of its own
into the security log, and any attachment name gives a Latin-1 Content-Disposition with RFC 6266 names."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import logging

import pytest
from werkzeug.exceptions import HTTPException

from tests.test_messaging_flow import ready  # noqa: F401 -- a fixture

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", " =1+1", "   +cmd", "\u00a0=1", "\u200b=1", "\ufeff@SUM(A1)",
            "\u2060-2", " \u200b\u00a0=HYPERLINK(\"x\")", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20x", " \uff1d1",
            "\t=1", "\r=1", "\n=1"]
PLAIN = ["hello", "a=b", "1-2", "e-mail", "", "Article 18 (13)", "\u00e9=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_is_kept_as_text(text):
    from catalogue.cases.exports import csv_cell

    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_ordinary_text_is_left_alone(text):
    from catalogue.cases.exports import csv_cell

    assert csv_cell(text) == text


def test_a_cr_lf_in_the_path_cannot_forge_a_security_log_line(app, caplog):
    from network.core.access import ensure

    with app.test_request_context("/cases/X%0D%0A2026-12-05 WARNING forged entry"):
        with caplog.at_level(logging.WARNING, logger="network.security"), pytest.raises(HTTPException):
            ensure(False)
    lines = [record.getMessage() for record in caplog.records if record.name == "network.security"]
    assert lines and all("\r" not in line and "\n" not in line for line in lines)
    assert "forged entry" in lines[-1]  # kept, escaped, on the one line


@pytest.mark.parametrize("name", ["bank-records.html", "سجلات مصرفية.pdf", "银行记录.xlsx", "Выписка.docx",
                                  "a\r\nBcc: x@y.z.txt", '"quoted".txt', "", "\u202eexe.pdf", "../../etc/passwd"])
def test_a_file_name_always_makes_a_latin1_content_disposition_on_one_line(name):
    """Finding 10: any name, in any script, with control or bidi characters, gives a header gunicorn can send."""
    from werkzeug.datastructures import Headers

    from network.core.filenames import clean_filename, disposition

    headers = Headers()
    headers.set("Content-Disposition", "attachment", **disposition(name))
    value = headers["Content-Disposition"]
    value.encode("latin-1")  # gunicorn's requirement
    assert "\r" not in value and "\n" not in value and "\u202e" not in value and "/" not in value.split(";")[1]
    if not clean_filename(name).isascii():
        assert "filename*=UTF-8''" in value and "filename=attachment" in value


def test_a_message_attachment_named_in_arabic_downloads_with_rfc_6266_names(app, ready, member_factory):
    from tests.test_messaging_features import _file_link, send_with_file
    from tests.test_messaging_flow import _html

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send_with_file(a, [bob], b"%PDF-1.4 bank records", name="سجلات مصرفية.pdf")
    response = b.get(_file_link(_html(b.get(f"/messages/{conversation_id}"))))
    assert response.status_code == 200 and response.data == b"%PDF-1.4 bank records"
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")
    assert "filename*=UTF-8''%D8%B3%D8%AC%D9%84%D8%A7%D8%AA" in header


ENCODED = "Topic =?utf-8?q?x=0D=0ABcc:_evil@example.org=0D=0AReply-To:_evil@example.org?= here"


def test_no_subject_or_recipient_can_add_a_mail_header(app, mailbox):
    """Finding 4: an encoded word decoding to CR LF, or a raw CR LF, never becomes a header of its own; and a row
    written without the rule (an older queue) is sent sanitised instead of stopping the whole delivery."""
    from network.core.db import db
    from network.core.mail import OutboxMail, deliver, header_text, pending_mail, queue_mail

    assert header_text("a\r\nBcc: x@example.org") == "a Bcc: x@example.org"
    assert "=?" not in header_text(ENCODED)
    with app.test_request_context():
        context = {"member": type("M", (), {"name": "W"})(), "sign_in_url": "https://example.org/s",
                   "reset_url": "https://example.org/r"}
        queue_mail("watcher@example.org", ENCODED, "members/already_registered", **context)
        queue_mail("watcher@example.org", "New post by Eve\r\nBcc: evil@example.org", "members/already_registered",
                   **context)
        db.session.add(OutboxMail(recipient="watcher@example.org\r\nBcc: evil@example.org",
                                  subject="Raw\nReply-To: evil@example.org", body="old row"))
        db.session.commit()
        sent, failed = deliver(pending_mail())
    assert (sent, failed) == (2, 1)  # the raw row is not one address: kept back, the others still leave
    assert len(mailbox.messages) == 2
    for message in mailbox.messages:
        assert message["Bcc"] is None and message["Reply-To"] is None and message["To"] == "watcher@example.org"
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
