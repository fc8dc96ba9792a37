"""one search outbox keyed by kind and id (issue 11)

Revision ID: 5e4c0b0a1d11
Revises: f4b2d0e38c51
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d11'
down_revision = 'f4b2d0e38c51'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
