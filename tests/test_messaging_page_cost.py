"""What keeps the messaging pages cheap without changing them: the cards' texts escaped exactly as markupsafe does,
and the inbox's statement reading the page's conversations once and still opening with SELECT."""
from __future__ import annotations

import pytest
from markupsafe import escape


@pytest.mark.parametrize("text", [
    "", "plain", "a & b", "<script>alert('x')</script>", 'say "hi"', "&amp; already", "Ünïcode — حسن — 中文",
    "<<>>&&''\"\"", "line\nbreak\ttab",
])
def test_the_cards_escape_a_text_as_markupsafe_does(text):
    from network.messaging.views import _text

    assert _text(text) == str(escape(text))
    assert type(_text(text)) is str


@pytest.mark.parametrize("archived", [False, True])
@pytest.mark.parametrize("held_mode", ["looked_up", "given", "none"])
def test_the_inbox_reads_its_page_of_conversations_once_in_a_statement_opening_with_select(app, archived, held_mode):
    """The page's conversations (filter, sort, limit) are one CTE, materialised on PostgreSQL, that the listing and
    the messages' part both read; the statement still opens with SELECT, which counters.py takes for a read (any
    other statement drops the navigation's counts read with the signed-in member)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from network.messaging import services

    statement = services._listing_statement(archived, held_mode)[0]
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        sql = str(statement.compile(dialect=dialect))
        assert sql.lstrip()[:6].upper() == "SELECT"
        assert sql.count("LIMIT") == 1  # the page's conversations, once
        assert sql.count("WITH inbox_page AS") == 1
    assert "inbox_page AS MATERIALIZED" in str(statement.compile(dialect=postgresql.dialect()))
