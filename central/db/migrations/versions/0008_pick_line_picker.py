"""a pick line handed to a robot arm names it (`pick_lines.picker`), so handhelds skip it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pick_lines") as batch:
        batch.add_column(sa.Column("picker", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pick_lines") as batch:
        batch.drop_column("picker")
