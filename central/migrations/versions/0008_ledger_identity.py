"""ledger identity: one row holding a random ledger id, recorded by the checkpoint folder that signs for it

An existing database gets its id here too; its checkpoint folder, which holds no id yet, adopts it at the
next checkpoint (central/checkpoint_log.py).

Revision ID: 0008_ledger_identity
Revises: 0007_item_status
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008_ledger_identity"
down_revision = "0007_item_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "ledger_identity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("ledger_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "ledger_id": f"ledger-{uuid.uuid4()}", "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("ledger_identity")
