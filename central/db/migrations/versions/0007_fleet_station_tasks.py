"""fleet transport tasks and robot-arm station pick tasks survive a restart

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dest", sa.String(length=32), nullable=False),
        sa.Column("load_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("vehicle", sa.String(length=64), nullable=True),
        sa.Column("vehicles", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_tasks")),
    )
    op.create_index(op.f("ix_fleet_tasks_load_id"), "fleet_tasks", ["load_id"])
    op.create_index(op.f("ix_fleet_tasks_status"), "fleet_tasks", ["status"])
    op.create_table(
        "station_tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("tote", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("transport_task", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_tasks")),
        sa.UniqueConstraint("source", name=op.f("uq_station_tasks_source")),
    )
    op.create_index(op.f("ix_station_tasks_station"), "station_tasks", ["station"])
    op.create_index(op.f("ix_station_tasks_status"), "station_tasks", ["status"])


def downgrade() -> None:
    op.drop_table("station_tasks")
    op.drop_table("fleet_tasks")
