"""console users record who issued their credential (the two reviews of a deduction may not trace to one person)

Revision ID: 0009_credential_issuer
Revises: 0008_ledger_identity

An existing account takes the actor of its last `user.add` or `user.password_reset` in the audit log, which has
named them since accounts were first audited. The command line's and the demo's actors (`cli`, `demo`) and an
account with no such entry (made from the shell before the audit log named it) count as the host operator, who
owns the database anyway: from then on, two such accounts cannot give both reviews of one deduction.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_credential_issuer"
down_revision = "0008_ledger_identity"
branch_labels = None
depends_on = None

# Written out rather than imported, so this step stays as it is when the code moves on.
HOST_OPERATOR = "(host operator)"
SHELL_ACTORS = ("cli", "demo")
users = sa.table(
    "console_users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("credential_issuer", sa.String),
)
audit_log = sa.table(
    "audit_log",
    sa.column("seq", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("target", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.add_column(sa.Column("credential_issuer", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    issued = bind.execute(
        sa.select(audit_log.c.target, audit_log.c.actor)
        .where(audit_log.c.action.in_(("user.add", "user.password_reset")))
        .order_by(audit_log.c.seq)
    ).all()
    last = {target: actor for target, actor in issued}  # later entries overwrite earlier ones
    for user_id, username in bind.execute(sa.select(users.c.id, users.c.username)).all():
        actor = last.get(username)
        issuer = HOST_OPERATOR if actor is None or actor in SHELL_ACTORS else actor
        bind.execute(sa.update(users).where(users.c.id == user_id).values(credential_issuer=issuer))
    with op.batch_alter_table("console_users") as batch:
        batch.alter_column("credential_issuer", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("credential_issuer")
