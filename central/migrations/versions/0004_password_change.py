"""console users may be required to choose a new password at their next sign-in

Revision ID: 0004_password_change
Revises: 0003_console
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_password_change"
down_revision = "0003_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("must_change_password")
