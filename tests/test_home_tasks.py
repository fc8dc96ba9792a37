"""Issue 13, item 5: icons are SVG served from the platform (never emoji), unread counts are right everywhere (reading
a topic reads its notifications; "Messages" shows its unread count), and a member's home page lists what waits for
them by role ("My tasks"), with shortcuts, in a bounded number of statements."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.forum_support import forum  # noqa: F401
from tests.requests_support import draft_request, send_request, world  # noqa: F401
from tests.test_messaging_flow import confirm_recovery_key, send
from tests.test_statement_budgets import statements_of

EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]")  # pictographs, dingbats (✓ ✔ ✖ ✉ ⚠ 🔔 🔒 📎)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def page(response):
    assert response.status_code == 200, response.status_code
    return lxml_html.fromstring(response.get_data(as_text=True))


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def accessible_name(link) -> str:
    """What a screen reader announces for a link: its text, less what is aria-hidden, plus the labels of images."""
    parts = []
    for node in link.iter():
        hidden = any(a.get("aria-hidden") == "true" for a in node.iterancestors()) or node.get("aria-hidden") == "true"
        if hidden:
            continue
        if node.get("role") == "img" and node.get("aria-label"):
            parts.append(node.get("aria-label"))
        elif node.text and node.tag not in ("title",):
            parts.append(node.text)
        if node is not link and node.tail and not any(a.get("aria-hidden") == "true" for a in [node]):
            parts.append(node.tail)
    return " ".join(" ".join(parts).split())


def bell(tree):
    links = tree.xpath('//a[contains(@class, "forum-bell")]')
    assert len(links) == 1
    return links[0]


def messages_link(tree):
    links = [a for a in tree.xpath("//nav//a") if a.get("href", "").rstrip("/").endswith("/messages")]
    assert len(links) == 1
    return links[0]


# ---------------------------------------------------------------- icons

def test_no_template_holds_an_emoji_used_as_an_icon():
    found = [f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:80]}"
             for path in TEMPLATES.rglob("*.html") for n, line in enumerate(path.read_text().splitlines(), 1)
             if EMOJI.search(line)]
    assert found == []


def test_the_bell_is_an_svg_icon_with_an_accessible_name_and_the_sprite_is_served(auth, member, forum):  # noqa: F811
    client = auth.client_for(member)
    tree = page(client.get("/forum/"))
    link = bell(tree)
    assert not EMOJI.search(text_of(link))
    icon = link.xpath(".//svg")
    assert icon and icon[0].get("aria-hidden") == "true"  # decorative: the link's text names it
    assert accessible_name(link) == "Notifications"
    sprite = icon[0].xpath(".//use")[0].get("href")
    assert sprite.split("#")[1] == "bell"
    answer = client.get(sprite.split("#")[0])
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert b'<symbol id="bell"' in answer.data
    answer.close()
    assert not EMOJI.search(client.get("/").get_data(as_text=True))


def test_a_restricted_space_shows_a_labelled_padlock_not_an_emoji(auth, forum):  # noqa: F811
    client = auth.client_for(forum["insider"])
    body = client.get("/forum/").get_data(as_text=True)
    assert "🔒" not in body
    padlocks = page(client.get("/forum/")).xpath('//*[contains(@class, "forum-padlock")]')
    assert padlocks and all(p.xpath('.//svg[@aria-hidden="true"]') for p in padlocks)
    assert all("Restricted space" in text_of(p) for p in padlocks)


# ---------------------------------------------------------------- unread counts

def test_reading_a_topic_reads_its_notifications_and_the_bell_falls(app, auth, member, member_factory,
                                                                    forum):  # noqa: F811
    from network.core.db import db
    from network.forum import notifications, services
    from network.forum.models import Notification

    other = member_factory(name="Rita Replier")
    topic = forum["open_topic"]  # member's question: replies notify them
    another = services.create_topic(member, forum["general"], "Another question", "Anyone?")
    services.reply(other, topic, "Call the duty officer.")
    services.reply(other, another, "Try the finder.")
    db.session.commit()
    assert notifications.unread_count(member) == 2
    client = auth.client_for(member)
    assert text_of(bell(page(client.get("/forum/")))).endswith("2 unread")

    tree = page(client.get(f"/forum/topics/{topic.id}"))
    assert text_of(bell(tree)).endswith("1 unread")  # the count the page shows is already the new one
    db.session.expire_all()
    read = {n.topic_id: n.read_at for n in db.session.query(Notification).filter_by(member_id=member.id)}
    assert read[topic.id] is not None and read[another.id] is None
    assert notifications.unread_count(member) == 1


def test_messages_shows_its_unread_count_and_reading_clears_it(app, auth, member, member_factory, other_authority):
    other = member_factory(authority=other_authority, name="Nora Counterpart")
    writer = auth.client_for(member)
    confirm_recovery_key(writer)
    reader = auth.client_for(other)
    confirm_recovery_key(reader)
    assert "unread" not in text_of(messages_link(page(reader.get("/forum/"))))

    conversation = send(writer, [other], subject="Bank records", text="Where does it stand?")
    link = messages_link(page(reader.get("/forum/")))
    assert text_of(link) == "Messages 1 unread" and link.xpath('.//span[@class="visually-hidden"]')
    assert "unread" not in text_of(messages_link(page(writer.get("/forum/"))))  # the sender's own copy is read

    page(reader.get(f"/messages/{conversation}"))
    assert "unread" not in text_of(messages_link(page(reader.get("/forum/"))))


# ---------------------------------------------------------------- the home page

def tasks_of(client) -> dict[str, str]:
    tree = page(client.get("/"))
    return {li.get("data-task"): text_of(li) for li in tree.xpath('//ul[contains(@class, "home-tasks")]/li')}


def apply(member_factory, n: int):
    from network.core.clock import utcnow
    from network.core.db import db
    from network.members.models import Application

    for k in range(n):
        applicant = member_factory(status="pending", enrolled=False, name=f"Applicant {k}")
        db.session.add(Application(member_id=applicant.id, status="submitted", reason="I handle requests.",
                                   submitted_at=utcnow(), email_verified_at=utcnow()))
    db.session.commit()


@pytest.mark.persistence
def test_a_moderator_sees_the_applications_to_vet_and_a_plain_member_does_not(auth, moderator, member,
                                                                              member_factory):
    apply(member_factory, 2)
    tasks = tasks_of(auth.client_for(moderator))
    assert tasks["members_to_vet"] == "2 applications to vet"
    assert "cases_to_review" in tasks and "directory_to_review" in tasks  # a moderator's other queues, at 0 too
    tree = page(auth.client_for(moderator).get("/"))
    assert tree.xpath('//li[@data-task="members_to_vet"]/a')[0].get("href") == "/vetting"

    plain = tasks_of(auth.client_for(member))
    assert "members_to_vet" not in plain and "cases_to_review" not in plain


@pytest.mark.persistence
def test_nothing_waiting_says_so_and_the_shortcuts_lead_everywhere(auth, member):
    client = auth.client_for(member)
    tree = page(client.get("/"))
    assert tasks_of(client) == {}
    assert "Nothing is waiting for you." in text_of(tree)
    headings = [h.tag for h in tree.xpath("//main//h1 | //main//h2 | //main//h3")]
    assert headings[0] == "h1" and "h3" not in headings
    shortcuts = {a.get("href").split("?")[0] for a in tree.xpath('//ul[contains(@class, "home-shortcuts")]//a')}
    assert {"/directory/finder", "/cases", "/forum/", "/messages/", "/requests/", "/directory/"} <= shortcuts
    assert all(a.xpath('.//svg[@aria-hidden="true"]') and text_of(a)
               for a in tree.xpath('//ul[contains(@class, "home-shortcuts")]//a'))


def test_a_member_without_an_authority_sees_no_dangling_separator(auth, member_factory):
    alone = member_factory(authority=None, email="alone@example.org")
    text = text_of(page(auth.client_for(alone).get("/")).xpath("//main")[0])
    assert "· France" not in text and "State: France" in text


def test_a_focal_point_sees_colleagues_to_vouch_for_and_stale_entries(app, auth, focal_point, member_factory,
                                                                      authority):
    from network.core.db import db

    applicant = member_factory(status="pending", enrolled=False, authority=authority, name="New Colleague")
    from network.core.clock import utcnow
    from network.members.models import Application

    db.session.add(Application(member_id=applicant.id, status="submitted", reason="Officer.",
                               submitted_at=utcnow(), email_verified_at=utcnow()))
    authority.last_verified = (utcnow() - timedelta(days=400)).date()
    db.session.commit()
    tasks = tasks_of(auth.client_for(focal_point))
    assert tasks["members_to_vouch"] == "1 colleague to vouch for"
    assert tasks["directory_to_reconfirm"] == "1 directory entry of your authority to re-confirm"
    assert "members_to_vet" not in tasks


@pytest.mark.persistence
def test_requests_waiting_incoming_and_overdue_outgoing(app, world, clock):  # noqa: F811
    from network.core import counters

    send_request(app, world, draft_request(world))
    names = ["requests_incoming", "requests_overdue"]

    def count(member):
        with app.test_request_context("/"):
            return counters.counts(member, names)

    assert count(world.nga_holder) == {"requests_incoming": 1, "requests_overdue": 0}
    assert count(world.drafter) == {"requests_incoming": 0, "requests_overdue": 0}
    clock.advance(days=11)  # the requesting authority's period for an acknowledgement is 10 days
    assert count(world.drafter) == {"requests_incoming": 0, "requests_overdue": 1}
    assert count(world.aut_holder)["requests_overdue"] == 1
    assert count(world.nga_holder) == {"requests_incoming": 1, "requests_overdue": 0}  # incoming, not outgoing
    assert count(world.moderator) == {"requests_incoming": None, "requests_overdue": None}  # no authority


@pytest.mark.persistence
def test_the_home_page_counts_every_task_in_a_bounded_number_of_statements(app, auth, moderator, member_factory):
    """Every kind of task in one statement: the number does not grow with the waiting work, and stays small."""
    client = auth.client_for(moderator)
    before = statements_of(app, client, "/")
    apply(member_factory, 3)
    after = statements_of(app, client, "/")
    assert len(after) == len(before) <= 12, "\n".join(s[:120] for s in after)


@pytest.mark.browser
def test_the_icons_draw_in_chromium_under_the_content_security_policy(live_server):
    """The sprite is fetched and drawn (the bell and the shortcuts' icons have a shape), with no CSP report; a
    screenshot of the home page goes to tests/artifacts/."""
    from network.core import clock as clock_module
    from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled

    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    app, base = live_server
    with app.app_context():
        from network.core.db import db

        secret = enrolled("icon.reader@justiz.example.at", "Ida Icon", ("member", "moderator"), austrian_authority())
        db.session.commit()
        db.session.remove()
    with chromium_session() as chrome:
        _context, tab = chrome.signed_in(base, "icon.reader@justiz.example.at", secret)
        tab.goto(f"{base}/")
        tab.wait_for_load_state("networkidle")
        sizes = tab.evaluate("""() => [...document.querySelectorAll('svg.bi use')].map(u => {
            const box = u.getBBox(); return [u.getAttribute('href').split('#')[1], box.width, box.height]; })""")
        assert sizes and all(width > 0 and height > 0 for _name, width, height in sizes), sizes
        assert {"bell", "compass", "envelope"} <= {name for name, _w, _h in sizes}
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "home-tasks.png"), full_page=True)
        assert chrome.console_errors == []


@pytest.mark.persistence
def test_the_members_to_reconfirm_count_is_the_re_confirmations_page_s_list(app, auth, moderator, member_factory,
                                                                           clock):
    """One definition of "due for re-confirmation" (network/members/tasks.py) serves the page and the home count:
    lapsed members and members whose year ends within the notice period; not the others, not the reader."""
    from datetime import timedelta

    from network.core.db import db

    lapsed = member_factory(status="lapsed", name="Lapsed Member")
    ending = member_factory(name="Ending Member")
    ending.confirmed_until = clock.now + timedelta(days=3)
    later = member_factory(name="Later Member")
    later.confirmed_until = clock.now + timedelta(days=400)
    db.session.commit()
    client = auth.client_for(moderator)
    listed = text_of(page(client.get("/reconfirmations")))
    assert lapsed.name in listed and ending.name in listed and later.name not in listed
    assert tasks_of(client)["members_to_reconfirm"] == "2 members to re-confirm"
