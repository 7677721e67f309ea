"""Inserting many rows of a model in one statement (executemany on SQLite, COPY on PostgreSQL), for bulk
paths where Django's bulk_create spends most of its time preparing each field of each object (imports
write a million rows).

Values go through each field's own get_db_prep_save, so the database sees exactly what the ORM
would write; only fields that need it (JSON, dates, decimals, booleans) are converted. Ids are
taken up front so callers can link rows to each other: from the sequence on PostgreSQL, and on
SQLite past the table's AUTOINCREMENT counter, which is safe because the caller's transaction
holds the database's write lock (BEGIN IMMEDIATE) and never reuses a deleted record's id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def columns(model, names: Sequence[str]) -> list[models.Field]:
    """The model's fields by attribute name (``owner_id`` or ``owner``), in the given order."""
    by_name = {}
    for f in model._meta.concrete_fields:
        by_name[f.name] = by_name[f.attname] = f
    return [by_name[n] for n in names]


def _converter(field: models.Field, conn):
    plain = (models.CharField, models.TextField, models.IntegerField, models.ForeignKey, models.BigAutoField)
    if isinstance(field, plain) and not isinstance(field, models.BooleanField):
        return None
    if isinstance(field, models.JSONField) and field.encoder is None and conn.vendor == "sqlite":
        prepare = _json  # what Django's JSONField does there, without its layers
    else:
        prepare = partial(field.get_db_prep_save, connection=conn)
    last: list = [_UNSET, None]  # rows of a batch often share a value (one timestamp, an empty list)

    def convert(value):
        if value is not last[0] and not (type(value) in (dict, list) and not value and value == last[0]):
            last[0], last[1] = value, prepare(value)
        return last[1]

    return convert


_UNSET = object()


def _json(value):
    return None if value is None else json.dumps(value)  # None is SQL NULL, as in JSONField


def next_ids(model, count: int) -> list[int]:
    """``count`` unused ids for ``model``'s table; call inside a transaction."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [f'"{table}"', count]
            )
            return [row[0] for row in cur.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("next_ids needs a transaction (it holds SQLite's write lock).")
        cur.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"
            f' COALESCE((SELECT MAX(id) FROM "{table}"), 0))',
            [table],
        )
        start = cur.fetchone()[0] + 1
    return list(range(start, start + count))


def insert(model, names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT ``rows`` (tuples of python values, in ``names`` order) into ``model``'s table."""
    fields = columns(model, names)
    conn = connections[DEFAULT_DB_ALIAS]  # the thread's connection itself, not the proxy (hot loop)
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f, conn)) is not None]
    prepared = []
    for row in rows:
        if converters:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i])
        prepared.append(row)
    write(model._meta.db_table, [f.column for f in fields], prepared)
    return len(prepared)


def write(table: str, columns: Sequence[str], rows: list[Sequence]) -> None:
    """INSERT rows already in the database's form: COPY on PostgreSQL (several times executemany's
    speed there), executemany on SQLite."""
    if not rows:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    name = conn.ops.quote_name(table)
    cols = ", ".join(conn.ops.quote_name(c) for c in columns)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)
