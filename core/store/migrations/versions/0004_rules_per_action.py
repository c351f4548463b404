"""on PostgreSQL: the rule table per write action; annotators and reviewers record participants' attributes

Rules now give each role a scope per action (insert, update, delete) and may limit an update to some
columns (``core/store/rules.py``): every account may change a participant's role, age, gender, speaker and
free fields; only admins add, remove or re-code participants. This reinstalls the server's rules
(``server_rules.install``): the rule table gets an ``op`` and a ``columns`` column, ``dyadlab_may`` and its
helpers take the action (the old functions are dropped), each action gets its own policy, and the group
roles get column-level UPDATE grants where a rule names columns. Only the tables' owner may do that, so
another login is refused with a message that says who must open the project first. SQLite: nothing to do
(DyadLab applies the rule table itself).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
#: ``server_rules.fingerprint()`` of the rules this migration installs (see 0003).
SERVER_RULES = "bac3f10cee16a308"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from dyadlab.core.store import server_rules

        server_rules.require_owner(bind, "its access rules per action, migration 0004")
        server_rules.install(bind)


def downgrade() -> None:
    """The per-action rules stay: 0003's DyadLab only calls the account functions (``dyadlab_add_account``,
    ``dyadlab_is_owner``, ...), whose arguments did not change, and the server still refuses every write
    0003's rules refused except participants' attributes. Going down to 0002 removes them all."""
