"""one search outbox keyed by kind and id (issue 11)

index_outbox: objects of every index kind (cases, posts, authorities) changed and not yet indexed, written in the
transaction of the change; it replaces search_outbox (cases) and forum_search_outbox (posts and topics), whose
pending rows it takes over (a topic's row becomes a row for each of its posts).
search_records: the PostgreSQL engine's index of the record kinds (forum posts, authorities), replacing
forum_post_search; on SQLite (Whoosh) it stays empty. Every post and every authority is queued, so the first drain
fills the new indexes (the forum's Whoosh folder moves to search-index-posts too).

Revision ID: 5e4c0b0a1d11
Revises: f4b2d0e38c51
Create Date: 2026-12-05 07:30:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d11'
down_revision = 'f4b2d0e38c51'
branch_labels = None
depends_on = None


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def upgrade():
    op.create_table('index_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_outbox'))
    )
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_outbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_index_outbox_kind_id', ['kind', 'id'], unique=False)

    op.create_table('search_records',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('scope', sa.JSON().with_variant(postgresql.ARRAY(sa.String(length=80)), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('document', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
    sa.Column('indexed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'object_id', name=op.f('pk_search_records'))
    )
    # GIN on PostgreSQL only (postgresql_using is ignored by other dialects).
    op.create_index('ix_search_records_document', 'search_records', ['document'], unique=False,
                    postgresql_using='gin')
    op.create_index('ix_search_records_scope', 'search_records', ['scope'], unique=False, postgresql_using='gin')

    # The pending rows of the two old outboxes, in their order; then every post and authority (new indexes).
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO index_outbox (kind, object_id, created_at) "
                         "SELECT 'cases', case_id, created_at FROM search_outbox ORDER BY id"))
    bind.execute(sa.text("INSERT INTO index_outbox (kind, object_id, created_at) "
                         "SELECT 'posts', post_id, created_at FROM forum_search_outbox "
                         "WHERE post_id IS NOT NULL ORDER BY id"))
    bind.execute(sa.text("INSERT INTO index_outbox (kind, object_id, created_at) "
                         "SELECT 'posts', p.id, o.created_at FROM forum_search_outbox o "
                         "JOIN forum_posts p ON p.topic_id = o.topic_id ORDER BY o.id, p.id"))
    now = _now()
    bind.execute(sa.text("INSERT INTO index_outbox (kind, object_id, created_at) "
                         "SELECT 'posts', id, :now FROM forum_posts ORDER BY id"), {"now": now})
    bind.execute(sa.text("INSERT INTO index_outbox (kind, object_id, created_at) "
                         "SELECT 'authorities', id, :now FROM authorities ORDER BY id"), {"now": now})

    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_outbox_created_at'))
        batch_op.drop_index(batch_op.f('ix_search_outbox_case_id'))
    op.drop_table('search_outbox')
    with op.batch_alter_table('forum_search_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_search_outbox_topic_id'))
        batch_op.drop_index(batch_op.f('ix_forum_search_outbox_post_id'))
        batch_op.drop_index(batch_op.f('ix_forum_search_outbox_created_at'))
    op.drop_table('forum_search_outbox')
    with op.batch_alter_table('forum_post_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_post_search_topic_id'))
        batch_op.drop_index(batch_op.f('ix_forum_post_search_space_id'))
        batch_op.drop_index('ix_forum_post_search_document', postgresql_using='gin')
        batch_op.drop_index(batch_op.f('ix_forum_post_search_author_id'))
    op.drop_table('forum_post_search')


def downgrade():
    op.create_table('forum_post_search',
    sa.Column('post_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('topic_hidden', sa.Boolean(), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('document', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
    sa.Column('indexed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_forum_post_search'))
    )
    with op.batch_alter_table('forum_post_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_post_search_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_forum_post_search_document', ['document'], unique=False, postgresql_using='gin')
        batch_op.create_index(batch_op.f('ix_forum_post_search_space_id'), ['space_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_post_search_topic_id'), ['topic_id'], unique=False)
    op.create_table('forum_search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_search_outbox'))
    )
    with op.batch_alter_table('forum_search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_search_outbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_search_outbox_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_search_outbox_topic_id'), ['topic_id'], unique=False)
    op.create_table('search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_outbox_created_at'), ['created_at'], unique=False)

    # Pending cases and posts go back to their outboxes; the forum's old index is empty: queue every post.
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO search_outbox (case_id, created_at) "
                         "SELECT object_id, created_at FROM index_outbox WHERE kind = 'cases' ORDER BY id"))
    bind.execute(sa.text("INSERT INTO forum_search_outbox (post_id, created_at) "
                         "SELECT id, :now FROM forum_posts ORDER BY id"), {"now": _now()})

    op.drop_index('ix_search_records_scope', table_name='search_records')
    op.drop_index('ix_search_records_document', table_name='search_records')
    op.drop_table('search_records')
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_index_outbox_kind_id')
        batch_op.drop_index(batch_op.f('ix_index_outbox_created_at'))
    op.drop_table('index_outbox')
