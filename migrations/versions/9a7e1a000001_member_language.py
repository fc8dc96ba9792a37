"""member language (issue 13): the interface language a member chose, for their pages and their e-mails

"" means not chosen yet: the browser's Accept-Language (or the language cookie) decides, as for a visitor.

Revision ID: 9a7e1a000001
Revises: 5e4c0b0a1d13
Create Date: 2026-12-05 08:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9a7e1a000001'
down_revision = '5e4c0b0a1d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('language')
