"""requests between authorities: drafts, the shared register, signed events (issue 15)

Revision ID: 4e9e57000001
Revises: 5c41e0a77a01
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4e9e57000001'
down_revision = '5c41e0a77a01'
branch_labels = None
depends_on = None


STATUSES = ("'draft', 'sent', 'received', 'under_execution', 'info_requested', 'info_supplied', 'partly_executed', "
            "'executed', 'postponed', 'consultation', 'refused', 'withdrawn', 'closed'")


def upgrade():
    op.create_table(
        'requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=64), nullable=False),
        sa.Column('form', sa.String(length=40), nullable=False),
        sa.Column('measures', sa.JSON(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('requesting_state', sa.String(length=3), nullable=False),
        sa.Column('requested_state', sa.String(length=3), nullable=False),
        sa.Column('requesting_authority_id', sa.Integer(), nullable=False),
        sa.Column('requested_authority_id', sa.Integer(), nullable=False),
        sa.Column('drafted_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requesting_reference', sa.String(length=100), nullable=False),
        sa.Column('requested_reference', sa.String(length=100), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('confidential', sa.Boolean(), nullable=False),
        sa.Column('limited_use', sa.Boolean(), nullable=False),
        sa.Column('original_channel', sa.String(length=40), nullable=False),
        sa.Column('original_sent_on', sa.Date(), nullable=True),
        sa.Column('refusal_ground', sa.String(length=20), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('last_event_at', sa.DateTime(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('head_digest', sa.String(length=64), nullable=False),
        sa.Column('imported_authority_id', sa.Integer(), nullable=True),
        sa.Column('advance_conversation_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f('ck_requests_status')),
        sa.ForeignKeyConstraint(['requesting_authority_id'], ['authorities.id'], ondelete='RESTRICT',
                                name=op.f('fk_requests_requesting_authority_id_authorities')),
        sa.ForeignKeyConstraint(['requested_authority_id'], ['authorities.id'], ondelete='RESTRICT',
                                name=op.f('fk_requests_requested_authority_id_authorities')),
        sa.ForeignKeyConstraint(['drafted_by_id'], ['members.id'], ondelete='SET NULL',
                                name=op.f('fk_requests_drafted_by_id_members')),
        sa.ForeignKeyConstraint(['imported_authority_id'], ['authorities.id'], ondelete='CASCADE',
                                name=op.f('fk_requests_imported_authority_id_authorities')),
        sa.ForeignKeyConstraint(['advance_conversation_id'], ['messaging_conversations.id'], ondelete='SET NULL',
                                name=op.f('fk_requests_advance_conversation_id_messaging_conversations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_requests')),
        sa.UniqueConstraint('public_id', name=op.f('uq_requests_public_id')),
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        for column in ('form', 'requesting_state', 'requested_state', 'requesting_authority_id',
                       'requested_authority_id', 'drafted_by_id', 'status', 'sent_at', 'last_event_at'):
            batch_op.create_index(batch_op.f(f'ix_requests_{column}'), [column], unique=False)

    op.create_table(
        'request_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('side', sa.String(length=12), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('record', sa.Text(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('note', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE',
                                name=op.f('fk_request_events_request_id_requests')),
        sa.ForeignKeyConstraint(['actor_id'], ['members.id'], ondelete='SET NULL',
                                name=op.f('fk_request_events_actor_id_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_events')),
        sa.UniqueConstraint('request_id', 'seq', name='uq_request_events_request_seq'),
    )
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        for column in ('request_id', 'actor_id', 'at'):
            batch_op.create_index(batch_op.f(f'ix_request_events_{column}'), [column], unique=False)

    op.create_table(
        'request_settings',
        sa.Column('authority_id', sa.Integer(), nullable=False),
        sa.Column('acknowledge_days', sa.Integer(), nullable=False),
        sa.Column('status_days', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], ondelete='CASCADE',
                                name=op.f('fk_request_settings_authority_id_authorities')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['members.id'], ondelete='SET NULL',
                                name=op.f('fk_request_settings_updated_by_id_members')),
        sa.PrimaryKeyConstraint('authority_id', name=op.f('pk_request_settings')),
    )


def downgrade():
    op.drop_table('request_settings')
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        for column in ('at', 'actor_id', 'request_id'):
            batch_op.drop_index(batch_op.f(f'ix_request_events_{column}'))
    op.drop_table('request_events')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        for column in ('last_event_at', 'sent_at', 'status', 'drafted_by_id', 'requested_authority_id',
                       'requesting_authority_id', 'requested_state', 'requesting_state', 'form'):
            batch_op.drop_index(batch_op.f(f'ix_requests_{column}'))
    op.drop_table('requests')
