"""search analysis for relevance (issue 11)

Revision ID: 5e4c0b0a1d13
Revises: 4e9e57000001
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d13'
down_revision = '4e9e57000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
