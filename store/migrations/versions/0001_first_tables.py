"""first tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 20:34:14.285193
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('industry', sa.String(length=120), nullable=True),
    sa.Column('region', sa.String(length=120), nullable=True),
    sa.Column('sector', sa.String(length=20), nullable=True),
    sa.Column('annual_revenue', sa.Float(), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('margin_pct', sa.Float(), nullable=True),
    sa.Column('exec_sponsor', sa.Boolean(), nullable=True),
    sa.Column('last_contact', sa.Date(), nullable=True),
    sa.Column('lifetime_value', sa.Float(), nullable=True),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('profile_override', sa.String(length=20), nullable=True),
    sa.Column('profile_override_by', sa.String(length=120), nullable=True),
    sa.Column('profile_override_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tier_override', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_name'), ['name'], unique=True)
        batch_op.create_index(batch_op.f('ix_account_owner'), ['owner'], unique=False)

    op.create_table('audit_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('entity_name', sa.String(length=200), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_record_at'), ['at'], unique=False)

    op.create_table('chat_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('chat_id', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'chat_id', name='uq_chat_user')
    )
    with op.batch_alter_table('chat_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_user_owner'), ['owner'], unique=False)

    op.create_table('checklist_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=10), nullable=False),
    sa.Column('item_id', sa.String(length=60), nullable=False),
    sa.Column('answer', sa.Boolean(), nullable=False),
    sa.Column('answered_by', sa.String(length=120), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject', 'subject_id', 'item_kind', 'item_id', name='uq_checklist_item')
    )
    with op.batch_alter_table('checklist_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_answer_subject_id'), ['subject_id'], unique=False)

    op.create_table('deal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('stage', sa.String(length=60), nullable=False),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('nurture_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_name'), ['name'], unique=True)
        batch_op.create_index(batch_op.f('ix_deal_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_status'), ['status'], unique=False)

    op.create_table('stage_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=60), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_visit_deal_id'), ['deal_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('stage_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_visit_deal_id'))

    op.drop_table('stage_visit')
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_status'))
        batch_op.drop_index(batch_op.f('ix_deal_owner'))
        batch_op.drop_index(batch_op.f('ix_deal_name'))
        batch_op.drop_index(batch_op.f('ix_deal_account_id'))

    op.drop_table('deal')
    with op.batch_alter_table('checklist_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_answer_subject_id'))

    op.drop_table('checklist_answer')
    with op.batch_alter_table('chat_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_user_owner'))

    op.drop_table('chat_user')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_record_at'))

    op.drop_table('audit_record')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_owner'))
        batch_op.drop_index(batch_op.f('ix_account_name'))

    op.drop_table('account')
    
