"""tier display order and annotator colour

Lets the timeline keep a user-chosen tier order and draw each annotator in a stable colour.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tiers") as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("annotators") as batch_op:
        batch_op.add_column(sa.Column("color", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("annotators") as batch_op:
        batch_op.drop_column("color")
    with op.batch_alter_table("tiers") as batch_op:
        batch_op.drop_column("position")
