"""item statuses: what became of a littering event's item (still there, removed, unknown), keyed by status id

Revision ID: 0007_item_status
Revises: 0006_camera_clock
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_item_status"
down_revision = "0006_camera_clock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_statuses",
        sa.Column("status_id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since_event_s", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_item_statuses_event_id", "item_statuses", ["event_id"])
    op.create_index("ix_item_statuses_camera_id", "item_statuses", ["camera_id"])


def downgrade() -> None:
    op.drop_index("ix_item_statuses_camera_id", "item_statuses")
    op.drop_index("ix_item_statuses_event_id", "item_statuses")
    op.drop_table("item_statuses")
