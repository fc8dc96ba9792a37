"""audit: a keyed chain (chain_version per entry) and a one-row chain head that serialises appends

Entries written before this revision keep their plain SHA-256 links and are marked chain_version 1 (the server
default); the application writes chain_version 2 (HMAC-SHA256 under a key derived from the master key) from now
on, and `audit verify` accepts unkeyed entries only before the first keyed one. The chain head row is seeded
from the last entry (issue 12, findings 3 and 21; docs/decisions/0007-keyed-audit-chain.md).

Revision ID: e3a1c9d27b40
Revises: 7c1e5a0b9f21
Create Date: 2026-12-05 04:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e3a1c9d27b40'
down_revision = '7c1e5a0b9f21'
branch_labels = None
depends_on = None

GENESIS = '0' * 64


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_version', sa.SmallInteger(), server_default='1', nullable=False))
    op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_id', sa.Integer(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('legacy_count', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    op.execute(
        "INSERT INTO audit_head (id, last_id, last_hash, legacy_count) "
        "SELECT 1, coalesce(max(id), 0), "
        f"coalesce((SELECT entry_hash FROM audit_entries ORDER BY id DESC LIMIT 1), '{GENESIS}'), "
        "coalesce(max(id), 0) FROM audit_entries"
    )


def downgrade():
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('chain_version')
