"""The stays table (``Stay``): each move of the stage history paired with the deal's next move.

A stay is what ``LEAD(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, id)`` pairs a move
with. Computing that window over the whole history on every forecast was most of a cold forecast's
time (docs/benchmarks.md); the pairs change only when a deal moves, so they are kept:

- ``refresh(deal_ids)``: run whenever a move is saved (``move_saved``, a ``post_save`` receiver on
  StageChange connected in apps.py), in the same transaction: the deal services record every
  creation, move, close and reopen that way (crm/records/services/deals.py), and so does anything
  else writing one move at a time (imports and conversions go through those services; fixtures).
  A receiver rather than a call in the service, so no writer of a move can forget it. It recomputes
  the stays of that deal alone from its moves, so a move written at a past moment (``clock.at``)
  pairs right too. A deal's deletion removes its moves and its stays (cascade); a merge of companies
  or contacts moves deals, not moves.
- The usual-stay histogram (``StayCount``, crm/forecast/staycounts.py) follows: ``refresh`` moves the
  counts from the deal's old completed stays to its new ones, ``rebuild`` rebuilds them.
- ``rebuild()``: every stay from the whole history, for moves written in bulk (``bulk_create`` and
  raw inserts send no signal: the benchmark seed's load) and by the migration that adds the table.
- ``differences()``: stays that do not match the history (``crm forecast-stays --check``; tests).
"""

from __future__ import annotations

from django.db import connection, transaction

from crm.forecast import staycounts
from crm.forecast.models import Stay
from crm.records.models import StageChange

_PAIRED = """
    SELECT id, deal_id, to_stage_id, changed_at,
           LEAD(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, id)
    FROM {moves} {where}"""


def _paired(where: str = "") -> str:
    return _PAIRED.format(moves=StageChange._meta.db_table, where=where)


def move_saved(sender, instance, raw=False, **kwargs) -> None:
    """``post_save`` of a StageChange: its deal's stays follow (not while loading fixtures: ``raw``)."""
    if not raw:
        refresh([instance.deal_id])


def refresh(deal_ids) -> None:
    """The stays of ``deal_ids`` recomputed from their moves (a handful of rows per deal)."""
    ids = sorted(set(deal_ids))
    if not ids:
        return
    table = Stay._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    before = staycounts.of_deals(ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE deal_id IN ({marks})", ids)
        cursor.execute(
            f"INSERT INTO {table} (change_id, deal_id, stage_id, entered_at, left_at) "
            + _paired(f"WHERE deal_id IN ({marks})"),
            ids,
        )
    staycounts.add(before, staycounts.of_deals(ids))


@transaction.atomic
def rebuild() -> int:
    """Every stay from the whole stage history; returns how many."""
    table = Stay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} (change_id, deal_id, stage_id, entered_at, left_at) " + _paired())
    staycounts.rebuild()
    return Stay.objects.count()


def differences(limit: int | None = 20) -> list[dict]:
    """Where the table is not true to the history (at most ``limit``): a move without its stay, a stay
    without its move, or a stay whose deal, stage or times differ from the move's pairing (every one
    when ``limit`` is None). Empty when
    it is true."""
    with connection.cursor() as cursor:
        cursor.execute(_paired())
        expected = {row[0]: _text(row[1:]) for row in cursor.fetchall()}
        cursor.execute(f"SELECT change_id, deal_id, stage_id, entered_at, left_at FROM {Stay._meta.db_table}")
        kept = {row[0]: _text(row[1:]) for row in cursor.fetchall()}
    out = []
    for change_id in sorted(expected.keys() | kept.keys()):
        if expected.get(change_id) != kept.get(change_id):
            out.append({"change_id": change_id, "expected": expected.get(change_id), "kept": kept.get(change_id)})
            if limit is not None and len(out) >= limit:
                break
    return out


def _text(values) -> tuple:
    """Values as text: SQLite hands a column's time back parsed but a window's result as the stored text
    (the same text, as the stays copy it), PostgreSQL both as datetimes."""
    return tuple(None if v is None else str(v) for v in values)
