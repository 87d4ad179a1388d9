"""console usernames unique ignoring case (NFKC, casefold); login attempts indexed by address

Revision ID: 0005_username_key
Revises: 0004_password_change

Accounts whose names already clash keep the oldest as it was; each later one is switched off, signed out and
keyed `KEY#ID`, which no username can fold to (`#` is not allowed in names), so an admin can see and settle it.

"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005_username_key"
down_revision = "0004_password_change"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
users = sa.table(
    "console_users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("username_key", sa.String),
    sa.column("active", sa.Boolean),
)
sessions = sa.table("console_sessions", sa.column("user_id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=80), nullable=True))
    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, username in bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all():
        # The rule as central.user_accounts.fold_username has it today, written out so this step stays the same.
        key = unicodedata.normalize("NFKC", username).casefold()
        values: dict[str, object] = {"username_key": key}
        if key in taken:
            values = {"username_key": f"{key}#{user_id}", "active": False}
            bind.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))
            log.warning("console user %r clashes with an older account ignoring case: switched off", username)
        taken.add(key)
        bind.execute(sa.update(users).where(users.c.id == user_id).values(**values))
    with op.batch_alter_table("console_users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=80), nullable=False)
    op.create_index("ix_console_users_username_key", "console_users", ["username_key"], unique=True)
    op.create_index("ix_console_login_attempts_address", "console_login_attempts", ["address"])


def downgrade() -> None:
    op.drop_index("ix_console_login_attempts_address", table_name="console_login_attempts")
    op.drop_index("ix_console_users_username_key", table_name="console_users")
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("username_key")
