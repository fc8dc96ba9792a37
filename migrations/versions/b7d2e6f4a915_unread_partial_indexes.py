"""unread notifications and message copies: a partial index each, of a member's unread rows alone

Every signed-in page counts the member's unread forum notifications (the bell) and unread message copies (issue 14):
found by member_id alone, every notification and copy the member ever had was read and dropped for its read_at; these
indexes hold the unread ones only (the notification's post too, for the bell's join; the copies of a mailbox, of no
member, are found by the same index under member_id NULL).

Revision ID: b7d2e6f4a915
Revises: 7f3e2a9c1b40
Create Date: 2026-12-06 04:35:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d2e6f4a915'
down_revision = '7f3e2a9c1b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_forum_notifications_member_unread', 'forum_notifications', ['member_id', 'post_id'],
                    unique=False, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
    op.create_index('ix_messaging_recipient_states_member_unread', 'messaging_recipient_states', ['member_id'],
                    unique=False, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))


def downgrade():
    op.drop_index('ix_messaging_recipient_states_member_unread', table_name='messaging_recipient_states',
                  sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
    op.drop_index('ix_forum_notifications_member_unread', table_name='forum_notifications',
                  sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
