"""message attachments as encrypted chunks in the database (issue 16)

storage_chunks holds sealed blobs in pieces (network/core/storage.py): message attachments are written there from
now on; files already in the instance folder's messaging-files/ are read from disk until
`flask --app app messaging attachments migrate` carries them over.

worker_jobs holds the background worker's schedule and leases (network/core/worker.py): one row per job, created
by the worker itself; mail_outbox.sending_until marks a mail a worker is handing to SMTP.

Revision ID: 5c41e0a77a01
Revises: 5e4c0b0a1d12
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c41e0a77a01'
down_revision = '5e4c0b0a1d12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'storage_chunks',
        sa.Column('blob_id', sa.String(length=80), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('blob_id', 'seq', name=op.f('pk_storage_chunks')),
    )
    op.create_table(
        'worker_jobs',
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('next_run_at', sa.DateTime(), nullable=False),
        sa.Column('locked_by', sa.String(length=100), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_started_at', sa.DateTime(), nullable=True),
        sa.Column('last_finished_at', sa.DateTime(), nullable=True),
        sa.Column('last_status', sa.String(length=20), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_jobs')),
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('sending_until')
    op.drop_table('worker_jobs')
    op.drop_table('storage_chunks')
