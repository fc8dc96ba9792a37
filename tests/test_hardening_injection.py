"""Text that reaches a CSV cell or a log line (issue 12, findings 6 and 7): formula cells are neutralised whatever
blank or full-width character comes first, and a CR LF in a URL cannot write a line of its own into the security
log."""
from __future__ import annotations

import logging

import pytest
from werkzeug.exceptions import HTTPException

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
