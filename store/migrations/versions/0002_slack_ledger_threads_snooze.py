"""chat event ledger, posted checklist messages, deal snooze, chat user check time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'key', name='uq_handled_event')
    )
    with op.batch_alter_table('handled_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_event_claimed_at'), ['claimed_at'], unique=False)

    op.create_table('chat_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('ts', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('posted_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'channel', 'ts', name='uq_chat_message')
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_message_subject_id'), ['subject_id'], unique=False)

    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('snooze_reason', sa.String(length=500), nullable=True))
    with op.batch_alter_table('chat_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_user', schema=None) as batch_op:
        batch_op.drop_column('checked_at')
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_column('snooze_reason')
        batch_op.drop_column('snoozed_until')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_subject_id'))
    op.drop_table('chat_message')
    with op.batch_alter_table('handled_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handled_event_claimed_at'))
    op.drop_table('handled_event')
