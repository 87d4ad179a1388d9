"""review, ledger, audit and retention tables; append-only triggers; points catalogue version 1

Revision ID: 0002_review
Revises: 0001_ingest
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002_review"
down_revision = "0001_ingest"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_entries", "audit_log", "points_catalogue")
CATALOGUE_V1 = {"jaywalking": 2, "littering": 3}


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "review_claims",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        _ts("claimed_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_review_claims_reviewer", "review_claims", ["reviewer"])
    op.create_index("ix_review_claims_expires_at", "review_claims", ["expires_at"])

    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("catalogue_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_actions_event_id", "review_actions", ["event_id"])
    op.create_index("ix_review_actions_at", "review_actions", ["at"])
    op.create_index("ix_review_actions_actor", "review_actions", ["actor"])

    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _ts("created_at"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("infraction_type", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=True),
        sa.Column("reverses", sa.Integer(), nullable=True),
        _ts("occurred_at"),
        _ts("expires_at"),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("second_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_ledger_entries_site", "ledger_entries", ["site"])
    op.create_index("ix_ledger_entries_subject_ref", "ledger_entries", ["subject_ref"])
    op.create_index("ix_ledger_entries_event_id", "ledger_entries", ["event_id"])

    op.create_table(
        "ledger_appeals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        _ts("filed_at"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("decision_reason", sa.String(length=120), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("reversal_seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ledger_appeals_entry_seq", "ledger_appeals", ["entry_seq"], unique=True)
    op.create_index("ix_ledger_appeals_event_id", "ledger_appeals", ["event_id"])
    op.create_index("ix_ledger_appeals_state", "ledger_appeals", ["state"])

    catalogue = op.create_table(
        "points_catalogue",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("infraction_type", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("version", "infraction_type"),
    )
    seeded = datetime.now(UTC)
    op.bulk_insert(
        catalogue,
        [
            {"version": 1, "infraction_type": kind, "points": points, "created_at": seeded, "created_by": "migration"}
            for kind, points in CATALOGUE_V1.items()
        ],
    )

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_target", "audit_log", ["target"])

    op.create_table(
        "purge_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("at"),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("event_ids", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file_removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purge_log_at", "purge_log", ["at"])
    op.create_index("ix_purge_log_sha256", "purge_log", ["sha256"])

    _append_only_triggers()


def _append_only_triggers() -> None:
    """The database itself refuses to edit or delete these rows; the hash chains catch anyone who first
    drops the triggers."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION curbwatch_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION curbwatch_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION curbwatch_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS curbwatch_append_only()")
    for table in ("purge_log", "audit_log", "points_catalogue", "ledger_appeals", "ledger_entries", "review_actions"):
        op.drop_table(table)
    op.drop_table("review_claims")
