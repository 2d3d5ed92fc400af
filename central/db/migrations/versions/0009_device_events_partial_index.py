"""device_events: the (source, ts) index leaves out tag reads and telemetry samples

The index serves look-ups of a device's newest events by type and source (the fleet's
agv.state and device.status at start); nothing looks up the high-volume rfid.tag_read and
telemetry.sample rows that way, and maintaining the index for them was about a third of the
cost of each row's COPY.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("type NOT IN ('rfid.tag_read', 'telemetry.sample')")


def upgrade() -> None:
    op.drop_index("ix_device_events_source_ts", table_name="device_events")
    op.create_index(
        "ix_device_events_source_ts_lookup",
        "device_events",
        ["source", "ts"],
        postgresql_where=_WHERE,
        sqlite_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_device_events_source_ts_lookup", table_name="device_events")
    op.create_index("ix_device_events_source_ts", "device_events", ["source", "ts"])
