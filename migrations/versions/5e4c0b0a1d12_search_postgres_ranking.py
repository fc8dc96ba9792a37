"""PostgreSQL search ranking without touching every matching row (issue 11)

Revision ID: 5e4c0b0a1d12
Revises: 5e4c0b0a1d11
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '5e4c0b0a1d12'
down_revision = '5e4c0b0a1d11'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
