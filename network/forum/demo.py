"""Demonstration forum (`flask --app app demo load`): FICTIONAL spaces, groups, topics and answers.

Spaces for the whole network and for two regional networks (REFCO, the Central American network of prosecutors,
and WACAP, the West African network of central authorities and prosecutors), restricted to their groups, with
the demo accounts of the States that fit as members, and a read-only "Network announcements" space (every member
reads it, only the network moderators' group writes). Every topic is invented; no real case is described.
Idempotent: groups, spaces and topics are found by slug or title and left alone when they exist."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from network.core.clock import utcnow
from network.core.db import db
from network.forum.models import ForumGroup, GroupMembership, Post, Space, SpacePermission, Topic
from network.members.models import Member

GROUPS = [
    ("network-moderators", "Network moderators",
     "The moderators of the network: they publish its announcements and look after the forum."),
    ("refco", "REFCO — Central American network of prosecutors",
     "Prosecutors of Central America working together against organized crime: focal points, contact lists and "
     "coordination of requests within the region."),
    ("wacap", "WACAP — West African network of central authorities and prosecutors",
     "Central authorities and prosecutors of the ECOWAS States and Mauritania: mutual legal assistance, "
     "extradition and confiscation within West Africa and with other regions."),
]

# (slug, name, description, group slug or None, position). A space with a group is restricted to it, unless
# READ_ONLY names it: then every member reads it and only its group writes.
SPACES = [
    ("announcements", "Network announcements",
     "News from the network's moderators: meetings, new members, changes to the platform. Read-only for members.",
     "network-moderators", 0),
    ("general", "General", "Questions and news for the whole network: how we work together, meetings, practice.",
     None, 1),
    ("mla", "Mutual legal assistance",
     "Requests for evidence, hearings, searches, bank records, freezing and confiscation (UNTOC art. 18).", None, 2),
    ("extradition", "Extradition",
     "Requests for extradition and provisional arrest, refusal grounds, nationals, surrender (UNTOC art. 16).",
     None, 3),
    ("refco", "REFCO space", "Coordination among the prosecutors of the Central American network.", "refco", 4),
    ("wacap", "WACAP space", "Coordination among the central authorities and prosecutors of West Africa.", "wacap",
     5),
]

READ_ONLY = {"announcements"}

# (group slug, e-mail, role)
MEMBERSHIPS = [
    ("network-moderators", "moderator@network.example.org", "space_moderator"),
    ("network-moderators", "moderator2@network.example.org", "space_moderator"),
    ("refco", "moderator2@network.example.org", "space_moderator"),
    ("wacap", "focal@justice.example.ng", "space_moderator"),
]

ANA, JOSE = "ana.souza@mj.example.br", "jose.reyes@doj.example.ph"
FRANZ, NGOZI = "focal@justiz.example.at", "focal@justice.example.ng"
MONA, MATEO = "moderator@network.example.org", "moderator2@network.example.org"

# (space, title, is_question, pinned, days ago, [(author, markdown)], index of the answer or None)
TOPICS = [
    ("announcements", "The forum is open: spaces, groups and who may write where", False, True, 45, [
        (MONA, "*Fictional demonstration announcement.*\n\nThe forum is open to every vetted member. The spaces "
               "for the whole network are open to all; the REFCO and WACAP spaces are for the members of those "
               "regional networks (ask to join from the forum's first page). This space is read-only: the network's "
               "moderators publish here, and you can follow it to be told of each announcement."),
    ], None),
    ("general", "Welcome: how to ask a question the network can answer", False, True, 40, [
        (MONA, "*Fictional demonstration topic.*\n\nA good question names:\n\n1. the **States** involved and who "
               "requests what;\n2. the **measure** sought (bank records, a hearing, provisional arrest...);\n"
               "3. what happened so far, e.g. a refusal and its stated ground;\n4. the deadline you face.\n\n"
               "Never post names of suspects or witnesses, or anything covered by the confidentiality of a request "
               "(UNTOC art. 18 (20)). Use encrypted messages for case details."),
    ], None),
    ("mla", "Request refused for lack of dual criminality: how did you get the bank records?", True, False, 30, [
        (ANA, "*Fictional demonstration topic.*\n\nOur request for bank records in a fraud case was refused: the "
              "requested State said the conduct is not an offence there. The account holder is a shell company "
              "used to move the proceeds. Has anyone overcome a refusal like this?"),
        (FRANZ, "We had the same refusal once. Two things worked:\n\n- **Describe the conduct, not the label.** "
                "Dual criminality looks at the conduct as a whole (UNTOC art. 18 (9) lets a State assist even "
                "without it). Our first request named an offence that does not exist there; the second described "
                "the transfers and the false invoices, which is fraud and money laundering in both States.\n"
                "- **Call the central authority before re-sending.** Their officer told us which facts were "
                "missing. See their requirements in the directory: [[authority:AUT-MOJ]].\n\n"
                "The second request was granted in about three months."),
        (JOSE, "Same experience here. A short call between central authorities saved us weeks: check the "
               "directory for the officer on duty before you re-send."),
        (ANA, "Thank you @[Franz Fokus]: we re-described the conduct and the records arrived last week."),
    ], 1),
    ("mla", "Hearing a witness by videoconference across borders", True, False, 21, [
        (JOSE, "*Fictional demonstration topic.*\n\nOur trial court wants to hear a witness who lives abroad, by "
               "videoconference. The requested State has not yet answered our request. What do requested States "
               "usually need for this?"),
        (NGOZI, "Article 18 (18) of the Convention covers it. In our practice the requested State needs:\n\n"
                "1. the **date and time** proposed, with an alternative, and the time zones;\n"
                "2. who conducts the hearing (your judge) and who attends on our side (our judicial authority, "
                "who identifies the witness and ensures our law is respected);\n"
                "3. the **language** and who provides the interpreter;\n"
                "4. a **technical test** a week before, between the two courts' technicians.\n\n"
                "Send the technical details in a separate annex: it moves faster between the courts."),
        (JOSE, "Very helpful. The test call found a firewall problem we would never have fixed on the day."),
    ], 1),
    ("mla", "Urgent preservation of electronic evidence before the request arrives", True, False, 10, [
        (NGOZI, "*Fictional demonstration topic.*\n\nA provider abroad will delete subscriber data and logs in a "
                "few days. Our formal request needs weeks. How do others secure the data in time?"),
        (FRANZ, "Ask for **expedited preservation** first, through the 24/7 point of contact of the requested "
                "State where one exists, and announce the formal request. Preservation freezes the data; the "
                "disclosure then follows the usual mutual legal assistance channel. Give the provider's name, the "
                "account identifiers and the exact period. Most providers keep preserved data for 90 days, which "
                "can be extended once."),
        (MONA, "And state expressly that the request is urgent (UNTOC art. 18 (13)): central authorities may "
               "act on an advance copy by e-mail."),
    ], 1),
    ("general", "Asset sharing after confiscation: agreements that worked", False, False, 14, [
        (FRANZ, "*Fictional demonstration topic.*\n\nAfter a confiscation that relied on evidence from two other "
                "States, we were asked to share the assets. UNTOC art. 14 (3) allows it, case by case or by "
                "agreement. How did you agree on the shares?"),
        (ANA, "We signed a short case-by-case agreement: each State's share followed its contribution "
              "(investigation, freezing, management of the assets), after deducting the costs of managing and "
              "selling them. Priority went to compensating the victims (art. 14 (2)). The central authority of "
              "Brazil can share a model: [[authority:BRA-DRCI]]."),
    ], None),
    ("extradition", "Extradition of a national refused: prosecuting instead (art. 16 (10))", True, False, 5, [
        (JOSE, "*Fictional demonstration topic.*\n\nOur extradition request was refused because the person is a "
               "national of the requested State. Its authorities say they will prosecute instead. What should we "
               "send them so the case does not stall?"),
    ], None),
    ("refco", "Coordinating requests in a migrant smuggling case across four States", False, True, 12, [
        (MATEO, "*Fictional demonstration topic, restricted to REFCO.*\n\nFour of us have requests pending in the "
                "same smuggling route. Proposal: one coordination call a fortnight, a shared timetable of hearings, "
                "and a single contact per State. Reply with your State's contact."),
    ], None),
    ("wacap", "Tracing proceeds of online fraud across ECOWAS States", True, False, 8, [
        (NGOZI, "*Fictional demonstration topic, restricted to WACAP.*\n\nProceeds of a romance fraud went through "
                "mobile money accounts in three ECOWAS States. Which channel has been fastest for you: the ECOWAS "
                "Convention on Mutual Assistance, or the UNTOC?"),
        (MONA, "From the cases moderators have seen: cite both instruments. The ECOWAS Convention is familiar to the "
               "central authorities of the region; the UNTOC adds art. 18 (13) for urgent requests and covers the "
               "mobile money operators' records as bank records."),
    ], 1),
]


def _member(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == email))


def load_demo_forum() -> dict[str, int]:
    created = {"forum groups": 0, "forum spaces": 0, "forum topics": 0}
    groups = {}
    for slug, name, description in GROUPS:
        group = db.session.scalar(select(ForumGroup).where(ForumGroup.slug == slug))
        if group is None:
            group = ForumGroup(slug=slug, name=name, description=description)
            db.session.add(group)
            created["forum groups"] += 1
        groups[slug] = group
    db.session.flush()
    for group_slug, email, role in MEMBERSHIPS:
        member = _member(email)
        if member is None:
            continue
        group = groups[group_slug]
        exists = db.session.scalar(select(GroupMembership).where(GroupMembership.group_id == group.id,
                                                                 GroupMembership.member_id == member.id))
        if exists is None:
            db.session.add(GroupMembership(group_id=group.id, member_id=member.id, role=role))
    spaces = {}
    for slug, name, description, group_slug, position in SPACES:
        space = db.session.scalar(select(Space).where(Space.slug == slug))
        if space is None:
            group = groups.get(group_slug) if group_slug else None
            read_only = slug in READ_ONLY
            space = Space(slug=slug, name=name, description=description,
                          restricted=group is not None and not read_only, group_id=group.id if group else None,
                          position=position)
            if read_only:
                space.permissions = [SpacePermission(group_id=None, can_see=True),
                                     SpacePermission(group_id=group.id, can_see=True, can_reply=True,
                                                     can_create=True)]
            db.session.add(space)
            created["forum spaces"] += 1
        spaces[slug] = space
    db.session.flush()
    now = utcnow()
    for space_slug, title, is_question, pinned, days, posts, answer in TOPICS:
        space = spaces[space_slug]
        if db.session.scalar(select(Topic.id).where(Topic.space_id == space.id, Topic.title == title)):
            continue
        authors = [_member(email) for email, _text in posts]
        if any(author is None for author in authors):
            continue
        start = now - timedelta(days=days)
        topic = Topic(space_id=space.id, author_id=authors[0].id, title=title, is_question=is_question,
                      pinned=pinned, created_at=start, last_post_at=start)
        db.session.add(topic)
        db.session.flush()
        made = []
        for index, ((_email, text), author) in enumerate(zip(posts, authors, strict=True)):
            when = start + timedelta(hours=7 * index)
            post = Post(topic_id=topic.id, author_id=author.id, body_markdown=text, created_at=when)
            db.session.add(post)
            made.append(post)
            topic.last_post_at = when
        db.session.flush()
        if answer is not None:
            topic.solved_post_id = made[answer].id
        created["forum topics"] += 1
    db.session.flush()
    return created
