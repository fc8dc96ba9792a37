"""The forum's test world, shared by the forum's test modules: open spaces and a restricted one, an insider (group
member), an outsider and a space moderator, an open question and a restricted topic."""
from __future__ import annotations

import pytest

RESTRICTED_TITLE = "Secret coordination of the regional network"


@pytest.fixture
def forum(app, member_factory, other_authority, member, moderator):
    """Open spaces and a restricted one; an insider (group member), an outsider and a space moderator."""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import ForumGroup, GroupMembership, Space

    group = ForumGroup(slug="refco", name="REFCO", description="Central American network of prosecutors")
    db.session.add(group)
    db.session.flush()
    general = Space(slug="general", name="General", description="For everyone", position=1)
    mla = Space(slug="mla", name="Mutual legal assistance", description="Art. 18", position=2)
    regional = Space(slug="refco", name="REFCO space", description="Regional coordination", restricted=True,
                     group_id=group.id, position=3)
    db.session.add_all([general, mla, regional])
    insider = member_factory(name="Irene Insider", email="irene@justiz.example.at")
    space_moderator = member_factory(name="Sam Spacemod", email="sam@justiz.example.at")
    outsider = member_factory(authority=other_authority, name="Otto Outsider", email="otto@justice.example.ng")
    db.session.add_all([GroupMembership(group_id=group.id, member_id=insider.id, role="member"),
                        GroupMembership(group_id=group.id, member_id=space_moderator.id, role="space_moderator")])
    db.session.flush()
    open_topic = services.create_topic(member, general, "How do I reach a central authority fast?",
                                       "Looking for advice.", is_question=True)
    secret = services.create_topic(insider, regional, RESTRICTED_TITLE, "Confidential plan for the route.")
    db.session.commit()
    return {"group": group, "general": general, "mla": mla, "regional": regional, "insider": insider,
            "outsider": outsider, "space_moderator": space_moderator, "open_topic": open_topic, "secret": secret,
            "member": member, "moderator": moderator}
