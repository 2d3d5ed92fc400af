"""commands, edge health, telemetry history, devices.edge_id

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commands")),
    )
    op.create_index(op.f("ix_commands_edge_id"), "commands", ["edge_id"])
    op.create_index(op.f("ix_commands_status"), "commands", ["status"])
    op.create_table(
        "edges",
        sa.Column("edge_id", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=32), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("status_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("health", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("edge_id", name=op.f("pk_edges")),
    )
    op.create_table(
        "telemetry_samples",
        sa.Column("id", BigId, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("edge_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_samples")),
    )
    op.create_index(
        "ix_telemetry_samples_series", "telemetry_samples", ["device_id", "tag", "ts"]
    )
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("edge_id", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_devices_edge_id"), ["edge_id"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_index(batch.f("ix_devices_edge_id"))
        batch.drop_column("edge_id")
    op.drop_index("ix_telemetry_samples_series", table_name="telemetry_samples")
    op.drop_table("telemetry_samples")
    op.drop_table("edges")
    op.drop_index(op.f("ix_commands_status"), table_name="commands")
    op.drop_index(op.f("ix_commands_edge_id"), table_name="commands")
    op.drop_table("commands")
