"""The inbox and a conversation's page as their readers see them, read as plain rows with the key sets in the same
statement: names escaped however they are written, and a participant's changed key still warned."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

from tests.conftest import submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 (ready: a fixture)

HOSTILE = '<script>alert("x")</script> O\'Brien & \u202eevil\u202c'


def test_participant_names_are_escaped_in_the_inbox_and_the_conversation(app, ready, member_factory):
    alice, bob = member_factory(name=HOSTILE), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    for page in (_html(b.get("/messages/")), _html(b.get(f"/messages/{conversation_id}"))):
        assert "<script>alert" not in page and CANARY + " subject" in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &amp; \u202eevil\u202c" in page
    # the writer's own view: the recipient among the people, the first message's subject opened with their key
    assert CANARY + " subject" in _html(a.get("/messages/"))
    assert CANARY + " text" in _html(a.get(f"/messages/{conversation_id}"))


def test_a_participants_new_key_is_warned_and_their_messages_still_open_after_the_page_read_the_keys_with_it(
        app, auth, ready, member_factory):
    from network.core.db import db
    from network.messaging import lifecycle

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    page = f"/messages/{conversation_id}"
    assert "key-changed" not in _html(b.get(page))
    lifecycle.retire_on_reset(alice)  # a password reset: alice's next session makes a new key set
    db.session.commit()
    a = ready(alice)
    assert submit(a, f"{page}/reply", {"text": "After the reset."}, page=page).status_code == 302
    seen = _html(b.get(page))
    assert "key-changed" in seen and CANARY + " text" in seen and "After the reset." in seen
    assert CANARY + " subject" in _html(b.get("/messages/"))


def test_the_buttons_token_is_the_markup_of_a_confirm_form(app, ready, member_factory):
    from flask import g

    from network.messaging.forms import ConfirmForm
    from network.messaging.views import TOKEN_ONLY

    with app.test_request_context("/messages/"):
        built = str(ConfirmForm().hidden_tag())
        assert str(TOKEN_ONLY.hidden_tag()) == built and 'name="csrf_token"' in built
        g.csrf_token = 'a"b<c'  # whatever the token holds, it stays inside its attribute
        assert str(TOKEN_ONLY.hidden_tag()).endswith('value="a&#34;b&lt;c">')
    # and the archive buttons of both pages post with it
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    assert submit(b, f"/messages/{conversation_id}/archive", {"next": "inbox"},
                  page="/messages/").status_code == 302
    assert CANARY + " subject" in _html(b.get("/messages/archived"))
    assert submit(b, f"/messages/{conversation_id}/unarchive", {"next": "conversation"},
                  page=f"/messages/{conversation_id}").status_code == 302
    assert CANARY + " subject" in _html(b.get("/messages/"))
