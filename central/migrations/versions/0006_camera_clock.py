"""camera status keeps the camera box's clock offset from central's, measured on each timed status

Revision ID: 0006_camera_clock
Revises: 0005_username_key
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_camera_clock"
down_revision = "0005_username_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_status") as batch:
        batch.add_column(sa.Column("clock_offset_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_status") as batch:
        batch.drop_column("clock_offset_s")
