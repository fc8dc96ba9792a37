"""message attachments as encrypted chunks in the database (issue 16)

Revision ID: 5c41e0a77a01
Revises: 5e4c0b0a1d12
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '5c41e0a77a01'
down_revision = '5e4c0b0a1d12'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
