"""Messaging's count (network/core/counters.py): the member's unread messages, on the "Messages" navigation item and
the home page. The same messages the inbox marks unread: the member's own copies, and those of the authority
mailbox they hold that others sent, in conversations not archived."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import Integer, String, bindparam, case, exists, func, select

from network.core.counters import Task, register_counter, register_task
from network.members.access import is_member
from network.members.models import Member
from network.messaging.formats import authority_slot
from network.messaging.models import (
    AuthorityKeyGrant,
    AuthorityMailboxKey,
    Conversation,
    ConversationArchive,
    Message,
    MessageRecipientState,
)

MEMBER = bindparam("unread_messages_member", type_=Integer)
AUTHORITY = bindparam("unread_messages_authority", type_=Integer)
SLOT = bindparam("unread_messages_slot", type_=String)


def unread_shape(member: Member):
    """The key: whether the member reads their authority's mailbox too (while they hold it)."""
    if not is_member(member):
        return None
    if member.status == "active" and member.authority_id is not None:
        return True, {MEMBER.key: member.id, AUTHORITY.key: member.authority_id,
                      SLOT.key: authority_slot(member.authority_id)}
    return False, {MEMBER.key: member.id}


def _holds_mailbox():
    """The member holds their authority's mailbox (mailboxes.held_authority_query_of): a grant not removed, of the
    authority's newest key version; each key read by its index, not the newest versions of every authority built."""
    newest = (select(func.max(AuthorityMailboxKey.key_version))
              .where(AuthorityMailboxKey.authority_id == AUTHORITY).scalar_subquery())
    return exists().where(AuthorityKeyGrant.member_id == MEMBER, AuthorityKeyGrant.authority_id == AUTHORITY,
                          AuthorityKeyGrant.removed_at.is_(None), AuthorityKeyGrant.key_version == newest)


def _unread(*conditions):
    State = MessageRecipientState
    shelved = exists().where(ConversationArchive.conversation_id == Conversation.id,
                             ConversationArchive.member_id == MEMBER,
                             ConversationArchive.archived_at >= Conversation.last_message_at)
    return (select(func.count(State.id)).join(Message, State.message_id == Message.id)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(*conditions, State.read_at.is_(None), ~shelved))


def unread_template(with_mailbox: bool):
    """The count as one statement kept per process (network/core/counters.py), the member's values bound: their own
    copies, plus the mailbox's copies others sent, counted only while they hold it (a member of an authority who
    does not hold its mailbox, the most of them, reads no mailbox copy); each count read by its own index."""
    State = MessageRecipientState
    own = _unread(State.member_id == MEMBER)
    if not with_mailbox:
        return own
    mailbox = _unread(State.member_id.is_(None), State.slot == SLOT, Message.sender_id != MEMBER)
    return select(own.scalar_subquery() + case((_holds_mailbox(), mailbox.scalar_subquery()), else_=0))


HOLDS = "messaging_holds_mailbox"


def _holds_shape(member: Member):
    """Whether the member holds their authority's mailbox (1 or 0; mailboxes.held_authority_ids), asked with the
    navigation's counts for a member who may hold one: the inbox takes it from there (services.inbox_listing) rather
    than asking it again, several times over, inside its own statement."""
    shaped = unread_shape(member)
    if shaped is None or not shaped[0]:
        return None
    return True, {MEMBER.key: member.id, AUTHORITY.key: member.authority_id}


def _holds_template(_key: bool):
    return select(case((_holds_mailbox(), 1), else_=0))


def register(app: Flask) -> None:
    register_counter(app, "unread_messages", shape=unread_shape, template=unread_template, navigation=True,
                     models=(MessageRecipientState, ConversationArchive, AuthorityKeyGrant))
    register_counter(app, HOLDS, shape=_holds_shape, template=_holds_template, navigation=True,
                     models=(AuthorityKeyGrant, AuthorityMailboxKey))
    register_task(app, Task("unread_messages", lambda n: ngettext("%(num)d unread message",
                                                                  "%(num)d unread messages", n),
                            "messages.inbox", position=80))
