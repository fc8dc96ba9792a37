"""SQL statements per page (issue 14): every page a member or visitor uses runs a bounded number of statements, and
the number does not grow with what the page lists (posts, topics, messages, conversations, cases, authorities,
applications). Each test counts one request with a few objects, adds more, counts again: an N+1 shows as a
difference, whatever the machine."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from tests.catalogue_support import interchange_case
from tests.conftest import submit

pytestmark = pytest.mark.persistence


@contextmanager
def counted(app):
    """The SQL statements run inside the block, as a list of their texts."""
    from sqlalchemy import event

    from network.core.db import db

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def statements_of(app, client, path: str) -> list[str]:
    assert client.get(path).status_code == 200  # warm: first-request work is not the page's
    with counted(app) as statements:
        answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return statements


def check(app, client, path: str, grow, budget: int) -> None:
    """The page's statements with what exists, then after grow(): no more, and within budget. A first
    request warms the process's caches (PostgreSQL's lexeme statistics are read once per 10 minutes): the budget is
    the steady state's."""
    statements_of(app, client, path)
    before = statements_of(app, client, path)
    grow()
    after = statements_of(app, client, path)
    listing = "\n".join(re.sub(r"\s+", " ", s)[:160] for s in after)
    # Never more; fewer may be (a search word found in a case or two is checked for a likely typo, which the same
    # word found in many cases is not).
    assert len(after) <= len(before), f"{path}: {len(before)} statements, then {len(after)}:\n{listing}"
    assert len(after) <= budget, f"{path}: {len(after)} statements (budget {budget}):\n{listing}"


# ---------------------------------------------------------------- the forum

@pytest.fixture
def space_with_topic(app, member_factory, member):
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Space

    space = Space(slug="general", name="General", description="For everyone", position=1)
    db.session.add(space)
    db.session.commit()
    authors = [member] + [member_factory(name=f"Author {n}") for n in range(3)]
    topic = services.create_topic(member, space, "Video hearings", "How long did it take?")
    services.reply(authors[1], topic, "Six weeks, with **an interpreter**.")
    db.session.commit()
    return {"space": space, "topic": topic, "authors": authors}


def test_a_topic_page_does_not_grow_with_its_posts(app, auth, member, space_with_topic):
    from network.core.db import db
    from network.forum import services

    client = auth.client_for(member)
    topic, authors = space_with_topic["topic"], space_with_topic["authors"]

    def grow():
        for n in range(10):
            services.reply(authors[n % 4], topic, f"Reply {n}: see [the Convention](https://www.unodc.org/).")
        db.session.commit()

    # the session with its member, the topic with its counts, reading mark and subscription and the member's rules,
    # the page of posts
    check(app, client, f"/forum/topics/{topic.id}", grow, budget=3)


def test_a_space_page_does_not_grow_with_its_topics(app, auth, member, space_with_topic):
    from network.core.db import db
    from network.forum import services

    client = auth.client_for(member)
    space, authors = space_with_topic["space"], space_with_topic["authors"]

    def grow():
        for n in range(8):
            topic = services.create_topic(authors[n % 4], space, f"Topic {n}", "A question.")
            services.reply(authors[(n + 1) % 4], topic, "An answer.")
        db.session.commit()

    # the session, the space with its counts and subscription and the member's rules, the page of topics with their
    # rows
    check(app, client, f"/forum/spaces/{space.slug}", grow, budget=3)


def test_the_forum_index_does_not_grow_with_its_spaces(app, auth, member, space_with_topic):
    """Each visible space shows its latest topic and each closed one the groups that see it: both read for every
    space at once (it was a query per space, with the author's roles and authority loaded each time)."""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import ForumGroup, Space

    client = auth.client_for(member)
    authors = space_with_topic["authors"]

    def grow():
        group = ForumGroup(slug="closed", name="Closed group", description="Not for everyone")
        db.session.add(group)
        db.session.flush()
        for n in range(3):
            opened = Space(slug=f"open-{n}", name=f"Open {n}", description="", position=10 + n)
            closed = Space(slug=f"closed-{n}", name=f"Closed {n}", description="", restricted=True,
                           group_id=group.id, position=20 + n)
            db.session.add_all([opened, closed])
            db.session.flush()
            services.create_topic(authors[n + 1], opened, f"Topic {n}", "A question.")
        db.session.commit()

    # the session; the spaces with their counts, latest topics and the groups that see them, and the member's rules
    check(app, client, "/forum/", grow, budget=2)


# ---------------------------------------------------------------- messaging

def test_a_conversation_and_the_inbox_do_not_grow_with_messages(app, auth, member, member_factory, other_authority):
    from tests.test_messaging_flow import confirm_recovery_key, send

    other = member_factory(authority=other_authority)
    writer = auth.client_for(member)
    confirm_recovery_key(writer)
    reader = auth.client_for(other)
    confirm_recovery_key(reader)
    conversation = send(writer, [other], subject="Bank records", text="Where does it stand?")

    def grow_messages():
        for n in range(4):
            client = reader if n % 2 == 0 else writer
            assert submit(client, f"/messages/{conversation}/reply", {"text": f"Step {n}"},
                          page=f"/messages/{conversation}").status_code == 302

    # one statement: the conversation with its people, the archive mark, every key set and verification mark, and
    # the messages with their copies (a union); and the signed-in request's own
    check(app, writer, f"/messages/{conversation}", grow_messages, budget=2)

    def grow_conversations():
        for n in range(3):
            send(reader, [member], subject=f"Another request {n}", text="News.")

    # one statement: the page with both counts, its people, the mailboxes held and the key sets, and the messages with
    # their copies (a union); and the signed-in request's own
    check(app, writer, "/messages/", grow_conversations, budget=2)


def test_a_conversation_does_not_grow_with_its_participants(app, auth, member, member_factory, other_authority):
    """A group's page reads every participant's key sets and the reader's key verifications, and every sender's
    public keys, in one statement each: not a few statements per participant or per sender."""
    from tests.test_messaging_flow import confirm_recovery_key, send

    writer = auth.client_for(member)
    confirm_recovery_key(writer)
    others = [member_factory(authority=other_authority) for _ in range(4)]
    clients = []
    for other in others:
        clients.append(auth.client_for(other))
        confirm_recovery_key(clients[-1])
    pair = send(writer, others[:1], subject="Two of us", text="A question.")
    group = send(writer, others, subject="Five of us", text="A question.")
    for client, conversation in [(clients[0], pair)] + [(client, group) for client in clients]:
        assert submit(client, f"/messages/{conversation}/reply", {"text": "An answer."},
                      page=f"/messages/{conversation}").status_code == 302
    statements_of(app, writer, f"/messages/{pair}")
    two = statements_of(app, writer, f"/messages/{pair}")
    five = statements_of(app, writer, f"/messages/{group}")
    listing = "\n".join(re.sub(r"\s+", " ", s)[:160] for s in five)
    assert len(five) <= len(two), f"{len(two)} statements for two people, {len(five)} for five:\n{listing}"


# ---------------------------------------------------------------- the catalogue

@pytest.fixture
def import_cases(app):
    from catalogue.cases import services
    from network.core.db import db

    def make(references, **fields):
        with app.test_request_context():
            for reference in references:
                services.import_case(interchange_case(reference, **fields), "")
            db.session.commit()

    return make


def test_the_catalogue_listing_does_not_grow_with_its_cases(app, client, import_cases):
    import_cases(["SB-1", "SB-2"])
    grow = iter([lambda: import_cases([f"SB-{n}" for n in range(3, 13)], crime_types=["trafficking_in_persons"]),
                 lambda: import_cases([f"SB-{n}" for n in range(13, 17)], requested_state="FRA")])
    # The page with the catalogue's generation; the facets and the total (one statement) only when they changed:
    # kept per process under that generation (catalogue.cases.queries._listing_page), and this is a repeated request.
    check(app, client, "/cases", next(grow), budget=1)
    check(app, client, "/cases?cooperation_form=mla&outcome=granted", next(grow), budget=1)


def test_a_search_and_a_case_page_do_not_grow_with_the_catalogue(app, client, import_cases):
    import_cases(["SB-1", "SB-2"], summary="Extradition of a suspect for money laundering.")
    check(app, client, "/cases?q=extradition",
          lambda: import_cases([f"SB-{n}" for n in range(3, 13)], summary="Extradition granted in months."),
          budget=1)  # the cases with the data generations: the engine's answer is kept under them (a repeated
    # request). Asked again (another generation), PostgreSQL runs the facets with the page (a small table: no planner
    # setting) and the word's count with its lookup (the page answered whether it finds anything); Whoosh no statement.
    check(app, client, "/cases/SB-1", lambda: import_cases(["SB-13", "SB-14"]), budget=2)  # case, related cases


def test_the_statistics_do_not_grow_with_the_catalogue(app, client, import_cases):
    import_cases(["SB-1", "SB-2"])
    check(app, client, "/cases/statistics",
          lambda: import_cases([f"SB-{n}" for n in range(3, 13)], requested_state="FRA", outcome="refused"),
          budget=1)  # the visible cases' figures


def test_a_forum_search_does_not_grow_with_its_hits(app, auth, member, space_with_topic):
    from network.core.db import db
    from network.forum import services

    client = auth.client_for(member)
    topic, authors = space_with_topic["topic"], space_with_topic["authors"]
    services.reply(authors[2], topic, "Extradition was granted after a video hearing.")
    db.session.commit()

    def grow():
        for n in range(8):
            services.reply(authors[n % 4], topic, f"Extradition step {n}: the hearing was held by video.")
        db.session.commit()

    # the session, the member's rules, the hits through the filter (PostgreSQL's search one more: the page and its
    # total in one statement)
    check(app, client, "/forum/search?q=extradition", grow, budget=4)


# ---------------------------------------------------------------- directory and vetting

def test_the_directory_does_not_grow_with_its_authorities(app, auth, member, authority_factory):
    client = auth.client_for(member)

    def grow():
        for state in ("FRA", "BRA", "PHL", "MEX", "ESP", "DEU"):
            authority_factory(state, domains=(f"justice.example.{state.lower()}",))

    check(app, client, "/directory/", grow, budget=2)  # the signed-in request's one, the directory's rows


def test_the_finder_and_an_authority_page_do_not_grow_with_the_directory(app, auth, member, authority,
                                                                        authority_factory):
    from network.core.db import db
    from network.directory.models import AuthorityDesignation

    client = auth.client_for(member)

    def designate(found) -> None:
        db.session.add(AuthorityDesignation(authority_id=found.id, code="untoc_extradition"))
        db.session.commit()

    designate(authority)

    def grow():
        for n in range(4):
            designate(authority_factory("AUT", name=f"Regional prosecutor {n}", domains=(f"r{n}.example.at",)))

    # The State's authorities with their designations, mailbox states and the States with entries: one statement.
    check(app, client, "/directory/finder?state=AUT&form=extradition&urgent=no", grow, budget=2)
    more = iter(range(10, 20))
    check(app, client, f"/directory/{authority.key}",
          lambda: [designate(authority_factory("AUT", name=f"Court {n}", domains=(f"c{n}.example.at",)))
                   for n in (next(more), next(more))], budget=2)  # the authority with its mailbox and its people


def test_the_vetting_queue_does_not_grow_with_its_applications(app, auth, moderator, member_factory):
    from network.core.clock import utcnow
    from network.core.db import db
    from network.members.models import Application

    client = auth.client_for(moderator)

    def apply(n: int) -> None:
        applicant = member_factory(status="pending", enrolled=False, name=f"Applicant {n}")
        db.session.add(Application(member_id=applicant.id, status="submitted", reason="I handle requests.",
                                   submitted_at=utcnow(), email_verified_at=utcnow()))
        db.session.commit()

    apply(0)
    check(app, client, "/vetting", lambda: [apply(n) for n in range(1, 6)], budget=2)  # the queue: one statement


def test_the_vetting_queues_rows_say_what_the_applications_say(app, moderator, member_factory, authority,
                                                              focal_point):
    """The page reads plain rows (vouches counted in SQL, the authority's domains matched in Python): each row
    gives what the loaded application gives, whatever its signals."""
    from datetime import timedelta

    from network.core.clock import utcnow
    from network.core.db import db
    from network.members import services
    from network.members.models import Application, Vouch

    domain = authority.email_domains[0]
    other_focal = member_factory(authority=authority, name="Second focal point")
    cases = [  # (authority, e-mail, decisions of the focal points, referee e-mail, referee's decision, status)
        (authority, f"ana@{domain}", ("vouched",), "ref@example.org", "confirmed", "submitted"),
        (authority, "bo@elsewhere.example", ("declined", "vouched"), "ref2@example.org", "declined", "submitted"),
        (None, "cy@unlisted.example", (), None, None, "info_requested"),
        (authority, f"di@{domain}", ("declined",), "ref3@example.org", None, "submitted"),
    ]
    for n, (where, email, decisions, referee, referee_decision, status) in enumerate(cases):
        applicant = member_factory(status="pending", enrolled=False, name=f"Applicant {n}", email=email,
                                   authority=where)
        if where is None:
            applicant.authority_other = "Unlisted prosecutor's office"
        application = Application(member_id=applicant.id, status=status, reason="I handle requests.",
                                  referee_email=referee, referee_decision=referee_decision,
                                  submitted_at=utcnow() - timedelta(hours=10 * n), email_verified_at=utcnow())
        db.session.add(application)
        db.session.flush()
        for decision, voucher in zip(decisions, (focal_point, other_focal), strict=False):
            db.session.add(Vouch(application_id=application.id, focal_point_id=voucher.id, decision=decision))
    db.session.commit()
    db.session.expire_all()
    with app.test_request_context("/vetting"):
        rows = services.vetting_queue_page()
        loaded = services.vetting_queue()
        assert [row.id for row in rows] == [a.id for a in loaded] and len(rows) == len(cases)
        now = utcnow()
        for row, application in zip(rows, loaded, strict=True):
            member = application.member
            assert (row.status, row.name, row.email, row.state, row.authority_name) == (
                application.status, member.name, member.email, member.state, member.authority_name)
            assert row.domain_matches == application.domain_matches
            assert (row.vouched, row.declined) == (len(application.vouched), len(application.declined))
            assert (row.referee_email, row.referee_id, row.referee_decision) == (
                application.referee_email, application.referee_id, application.referee_decision)
            assert row.waiting_hours(now) == application.waiting_hours(now)
        assert {row.domain_matches for row in rows} == {True, False}
        assert any(row.authority_name == "Unlisted prosecutor's office" for row in rows)


# ---------------------------------------------------------------- what a request remembers, and forgets

def test_the_forum_rules_forget_what_a_change_in_the_same_request_made_untrue(app, member, space_with_topic):
    from sqlalchemy import select

    from network.core.db import db
    from network.forum import access
    from network.forum.models import ForumGroup, GroupMembership, Space, SpacePermission

    group = ForumGroup(slug="refco", name="REFCO", description="Regional network")
    db.session.add(group)
    db.session.flush()
    space = Space(slug="refco", name="REFCO space", description="", restricted=True, group_id=group.id, position=2)
    db.session.add(space)
    db.session.commit()
    with app.test_request_context("/forum/"):
        assert not access.in_group(member, group.id) and not access.can_see_space(member, space)
        assert access.can_see_space(member, space_with_topic["space"])
        membership = GroupMembership(group_id=group.id, member_id=member.id, role="space_moderator")
        db.session.add(membership)  # pending, not flushed: the next question sees it
        assert access.in_group(member, group.id, "space_moderator") and access.can_moderate_space(member, space)
        db.session.flush()
        membership.role = "member"  # changed after the answers were remembered
        assert access.in_group(member, group.id) and not access.can_moderate_space(member, space)
        assert access.can_see_space(member, space)  # the group's permission row (a restricted space's default)
        row = db.session.scalar(select(SpacePermission).where(SpacePermission.space_id == space.id))
        row.can_see = row.can_reply = row.can_create = False  # changed, not flushed
        assert not access.can_see_space(member, space)
        row.can_see = row.can_reply = row.can_create = True
        db.session.flush()
        assert access.can_see_space(member, space)
        db.session.delete(membership)
        db.session.flush()
        assert not access.in_group(member, group.id) and not access.can_see_space(member, space)
    db.session.rollback()


def test_the_forum_rules_of_a_request_rest_on_one_statement(app, member, space_with_topic):
    """The member's groups, the permission rows that reach them and their current silence are read together, once
    per request, whatever the page asks of the rules (it was a statement for each)."""
    from network.forum import access

    space, topic = space_with_topic["space"], space_with_topic["topic"]
    with app.test_request_context("/forum/"):  # loads the member, the topic and its space
        assert access.can_reply(member, topic) and access.can_see_space(member, topic.space)
    with app.test_request_context("/forum/"), counted(app) as statements:
        assert access.can_see_space(member, space) and access.can_reply(member, topic)
        assert access.silenced_until(member) is None and not access.can_see_flag_queue(member)
        assert access.can_create_topic(member, space) and not access.can_moderate_space(member, space)
    assert len(statements) == 1, statements


# ---------------------------------------------------------------- HTTP caching

def test_static_files_carry_a_fingerprint_and_are_cached_for_a_year_only_with_it(client):
    import re

    page = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', page)
    assert any("bootstrap.min.css?v=" in u for u in urls) and any("app.css?v=" in u for u in urls), urls

    def cache_control(url: str) -> str:
        answer = client.get(url)
        answer.close()  # a file response
        assert answer.status_code == 200, url
        return answer.headers.get("Cache-Control", "")

    for url in urls:
        assert cache_control(url.replace("&amp;", "&")) == "public, max-age=31536000, immutable", url
    assert "immutable" not in cache_control("/static/css/app.css?v=000000000000")  # an old release's URL
    assert "immutable" not in cache_control("/static/css/app.css")


def test_public_pages_revalidate_with_an_etag_for_visitors_and_are_never_stored_for_members(app, client, auth,
                                                                                           member, import_cases):
    import_cases(["SB-1"])
    for path in ("/cases", "/cases/SB-1", "/cases/statistics"):
        first = client.get(path)
        vary = ", ".join(first.headers.getlist("Vary"))  # Accept-Language too, when the browser chose the language
        assert first.headers["Cache-Control"] == "no-cache" and "Cookie" in vary
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    import_cases(["SB-2"])
    assert client.get("/cases", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    signed_in = auth.client_for(member)
    for path in ("/cases", "/cases/SB-1"):
        answer = signed_in.get(path)
        assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers
        assert signed_in.get(path, headers={"If-None-Match": answer.headers.get("ETag", "*")}).status_code == 200
