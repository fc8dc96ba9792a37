"""requests between authorities: drafts, the shared register, signed events (issue 15)

Revision ID: 4e9e57000001
Revises: 5c41e0a77a01
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '4e9e57000001'
down_revision = '5c41e0a77a01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
