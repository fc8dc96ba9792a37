"""Messaging's count (network/core/counters.py): the member's unread messages, on the "Messages" navigation item and
the home page. The same messages the inbox marks unread: the member's own copies, and those of the authority
mailbox they hold that others sent, in conversations not archived."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import exists, func, literal, select

from network.core.counters import Task, register_counter, register_task
from network.members.access import is_member
from network.members.models import Member
from network.messaging import mailboxes
from network.messaging.formats import authority_slot
from network.messaging.models import (
    AuthorityKeyGrant,
    Conversation,
    ConversationArchive,
    Message,
    MessageRecipientState,
)


def unread(member: Member):
    if not is_member(member):
        return None
    State = MessageRecipientState
    mine = State.member_id == member.id
    if member.status == "active" and member.authority_id is not None:  # the mailbox, while the member holds it
        mine = mine | (State.member_id.is_(None) & (State.slot == authority_slot(member.authority_id))
                       & (Message.sender_id != member.id)
                       & literal(member.authority_id).in_(mailboxes.held_authority_query(member)))
    shelved = exists().where(ConversationArchive.conversation_id == Conversation.id,
                             ConversationArchive.member_id == member.id,
                             ConversationArchive.archived_at >= Conversation.last_message_at)
    return (select(func.count(State.id)).join(Message, State.message_id == Message.id)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(mine, State.read_at.is_(None), ~shelved))


def register(app: Flask) -> None:
    register_counter(app, "unread_messages", unread, navigation=True,
                     models=(MessageRecipientState, ConversationArchive, AuthorityKeyGrant))
    register_task(app, Task("unread_messages", lambda n: ngettext("%(num)d unread message",
                                                                  "%(num)d unread messages", n),
                            "messages.inbox", position=80))
