"""ingest tables

Revision ID: 0001_ingest
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ingest"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_status",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("site", "camera_id"),
    )
    op.create_table(
        "evidence",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "infraction_evidence",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "sha256"),
    )
    with op.batch_alter_table("infraction_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infraction_evidence_sha256"), ["sha256"], unique=False)

    op.create_table(
        "infractions",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("review_state", sa.String(length=24), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("infractions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infractions_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_infractions_review_state"), ["review_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_infractions_site"), ["site"], unique=False)
        batch_op.create_index(batch_op.f("ix_infractions_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_infractions_type"), ["type"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("payload_head", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quarantine_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_received_at"))
        batch_op.drop_index(batch_op.f("ix_quarantine_camera_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("infractions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infractions_type"))
        batch_op.drop_index(batch_op.f("ix_infractions_started_at"))
        batch_op.drop_index(batch_op.f("ix_infractions_site"))
        batch_op.drop_index(batch_op.f("ix_infractions_review_state"))
        batch_op.drop_index(batch_op.f("ix_infractions_camera_id"))

    op.drop_table("infractions")
    with op.batch_alter_table("infraction_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infraction_evidence_sha256"))

    op.drop_table("infraction_evidence")
    op.drop_table("evidence")
    op.drop_table("camera_status")
