"""accounts as database logins; on PostgreSQL: row-level security and the change log

Adds ``annotators.login`` (the PostgreSQL login role a person's account maps to) on every back end. On
PostgreSQL it then installs what the server enforces itself (``core/store/server_rules.py``): the rule
table's copy, the policies on every table, the account functions and the trigger-written change log.
SQLite keeps the rules in DyadLab (``core/store/roles.py``).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
#: ``server_rules.fingerprint()`` of the rules this migration installs. Changing the rule table or its SQL
#: needs a new migration that calls ``server_rules.install`` again and records the new fingerprint.
SERVER_RULES = "322ae2fd9ed5199d"


def upgrade() -> None:
    with op.batch_alter_table("annotators") as batch_op:
        batch_op.add_column(sa.Column("login", sa.String(length=63), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_annotators_login"), ["login"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from dyadlab.core.store import server_rules

        server_rules.install(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from dyadlab.core.store import server_rules

        server_rules.uninstall(bind)
    with op.batch_alter_table("annotators") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_annotators_login"), type_="unique")
        batch_op.drop_column("login")
