"""Bulk inserts of many rows: COPY on PostgreSQL, one executemany INSERT elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

COPY_FROM = 20  # fewer rows than this: a plain INSERT (one round trip) beats COPY's three


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction.

    On PostgreSQL (from COPY_FROM rows) this is one `COPY ... FROM STDIN`: each value goes
    through its column's own bind processing (JSON to text, the UTC check of times) and
    missing columns get their scalar Python defaults, so the stored rows equal what the INSERT
    path stores. Nothing is returned: callers that need ids take them up front (the sequence).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or len(rows) < COPY_FROM:
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    defaults = _scalar_defaults(table, names)
    columns = [table.c[name] for name in names] + [table.c[name] for name in defaults]
    processors: list[Callable[[Any], Any] | None] = [
        column.type._cached_bind_processor(dialect) for column in columns
    ]
    quote = dialect.identifier_preparer.quote
    target = dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({', '.join(quote(c.name) for c in columns)}) FROM STDIN"
    tail = list(defaults.values())
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names] + tail
            copy.write_row(
                [
                    value if process is None else process(value)
                    for value, process in zip(values, processors, strict=True)
                ]
            )


def _scalar_defaults(table: Table, given: list[str]) -> dict[str, Any]:
    """Python-side scalar defaults of the columns a row leaves out (INSERT would apply them)."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: give a value (its default is computed)")
        defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
    return defaults
