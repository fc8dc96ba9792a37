"""forum posts and their revisions keep their rendered HTML, the renderer's version and the source's digest

Existing rows start with no stored HTML: each is rendered the first time it is shown, and kept (issue 12,
finding 11).

Revision ID: f4b2d0e38c51
Revises: e3a1c9d27b40
Create Date: 2026-12-05 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4b2d0e38c51'
down_revision = 'e3a1c9d27b40'
branch_labels = None
depends_on = None

TABLES = ('forum_posts', 'forum_post_revisions')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column('body_html_version', sa.String(length=120), nullable=True))
            batch_op.add_column(sa.Column('body_html_digest', sa.String(length=64), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('body_html_digest')
            batch_op.drop_column('body_html_version')
            batch_op.drop_column('body_html')
