"""Keeping the per-day sums (crm/sales/models.py) true as deals and activities are written.

Each record contributes to a few keys (``deal_parts``, ``activity_parts``): a deal to its creation
day, its close day when won or lost, its expected close date while open; an activity to the day it
occurred. A write subtracts what the row contributed before and adds what it contributes after, read
from the database both times (so amounts, times and ids are the stored ones, not what a caller put on
the instance), in the writer's transaction.

Who calls it, so no writer can forget:
- ``pre_save``/``post_save``/``post_delete`` receivers on Deal and Activity (apps.py): every service
  that saves or deletes one record (create, update, move, close, reopen, delete, erasure, retention,
  imports one row at a time, fixtures), and querysets' ``delete()`` (Django sends the signals per row).
- writes that send no signal call it explicitly: the bulk insert every ``*_create_many`` shares
  (crm/records/services/bulk.py ``insert``: imports, the mailbox sync, the demo) and re-pointing many
  records at once (crm/records/services/moves.py ``move_many``: merges).
- a user's deletion sets the owner of their deals and activities to NULL without a signal per row;
  ``user_deleted`` (``pre_delete`` of the user) does the same to the sums.
Raw loads (the benchmark seed) rebuild instead: crm/sales/rebuild.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from crm.records.models import Activity, Deal, DealStatus
from crm.sales.models import ActivityDay, DealDay, Outcome

DEAL_FIELDS = (
    "id",
    "owner_id",
    "pipeline_id",
    "currency",
    "status",
    "amount",
    "created_at",
    "closed_at",
    "expected_close_date",
    "lost_reason",
)
ACTIVITY_FIELDS = ("id", "occurred_at", "owner_id", "kind")
DEAL_KEY = ("day", "outcome", "owner_id", "pipeline_id", "currency", "lost_reason")
ACTIVITY_KEY = ("day", "owner_id", "kind")
ZERO = Decimal(0)


def local_day(value: dt.datetime) -> dt.date:
    """The day in the organization's time zone (settings.TIME_ZONE), whatever zone a request activated."""
    return timezone.localtime(value, timezone.get_default_timezone()).date()


def _us(delta: dt.timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def deal_parts(row: dict) -> list[tuple[tuple, int, Decimal, int]]:
    """What one deal adds: (key, count, amount, cycle µs) per key it counts in."""
    base = (row["owner_id"], row["pipeline_id"], row["currency"])
    amount = row["amount"] or ZERO
    out = [((local_day(row["created_at"]), Outcome.CREATED.value, *base, ""), 1, amount, 0)]
    status, closed = row["status"], row["closed_at"]
    if status == DealStatus.WON and closed is not None:
        cycle = _us(closed - row["created_at"])
        out.append(((local_day(closed), Outcome.WON.value, *base, ""), 1, amount, cycle))
    elif status == DealStatus.LOST and closed is not None:
        out.append(((local_day(closed), Outcome.LOST.value, *base, row["lost_reason"]), 1, amount, 0))
    elif status == DealStatus.OPEN and row["expected_close_date"] is not None:
        out.append(((row["expected_close_date"], Outcome.OPEN.value, *base, ""), 1, amount, 0))
    return out


def activity_parts(row: dict) -> list[tuple[tuple, int, Decimal, int]]:
    return [((local_day(row["occurred_at"]), row["owner_id"], row["kind"]), 1, ZERO, 0)]


# model -> (fields read, parts of a row, sums model, its key fields)
TRACKED = {
    Deal: (DEAL_FIELDS, deal_parts, DealDay, DEAL_KEY),
    Activity: (ACTIVITY_FIELDS, activity_parts, ActivityDay, ACTIVITY_KEY),
}


def rows_of(model, pks) -> list[dict]:
    """The stored values the sums read, of these records (in chunks under SQLite's parameter limit)."""
    fields = TRACKED[model][0]
    pks = sorted(set(pks))
    out = []
    for i in range(0, len(pks), 500):
        out.extend(model.objects.filter(pk__in=pks[i : i + 500]).order_by().values(*fields))
    return out


def apply(model, *, before: list[dict] = (), after: list[dict] = ()) -> None:
    """The sums of ``model`` lose what the ``before`` rows contributed and gain the ``after`` rows'."""
    _, parts, sums, key_fields = TRACKED[model]
    deltas: dict[tuple, list] = defaultdict(lambda: [0, ZERO, 0])
    for sign, rows in ((-1, before), (1, after)):
        for row in rows:
            for key, n, amount, cycle in parts(row):
                d = deltas[key]
                d[0], d[1], d[2] = d[0] + sign * n, d[1] + sign * amount, d[2] + sign * cycle
    for key, (n, amount, cycle) in deltas.items():
        if n or amount or cycle:
            _add(sums, dict(zip(key_fields, key, strict=True)), n, amount, cycle)


def _add(sums, key: dict, n: int, amount: Decimal, cycle: int) -> None:
    """Add to one row of the key (any, when a race left two), or insert it."""
    match = {
        ("owner_id__isnull" if k == "owner_id" and v is None else k): (True if v is None else v) for k, v in key.items()
    }
    pk = sums.objects.filter(**match).values_list("pk", flat=True).first()
    values = {"count": n} if sums is ActivityDay else {"count": n, "amount": amount, "cycle_us": cycle}
    if pk is None:
        sums.objects.create(**key, **values)
    else:
        sums.objects.filter(pk=pk).update(**{f: F(f) + v for f, v in values.items()})


# Signal receivers (connected in apps.py) ------------------------------------------------------


def before_save(sender, instance, **kwargs) -> None:
    """What the row contributed before this save (nothing for a new one)."""
    instance._sales_before = rows_of(sender, [instance.pk]) if instance.pk is not None else []


def after_save(sender, instance, **kwargs) -> None:
    apply(sender, before=getattr(instance, "_sales_before", []), after=rows_of(sender, [instance.pk]))
    instance._sales_before = []


def after_delete(sender, instance, **kwargs) -> None:
    """The deleted row (as loaded: services and querysets' delete() load it just before) no longer counts."""
    apply(sender, before=[{f: getattr(instance, f) for f in TRACKED[sender][0]}])


def user_deleted(sender, instance, **kwargs) -> None:
    """Deals and activities of a deleted user lose their owner (SET_NULL, no signal per row): so do the sums."""
    for sums in (DealDay, ActivityDay):
        sums.objects.filter(owner_id=instance.pk).update(owner_id=None)


# Writes without signals -----------------------------------------------------------------------


def inserted(model, pks) -> None:
    """Records inserted in bulk (no signal): they count from now on."""
    if model in TRACKED:
        apply(model, after=rows_of(model, pks))


@contextmanager
def tracking(model, pks, fields):
    """Around a bulk update of ``fields`` of these records: the sums follow what changed. Nothing to do
    when the model is not tracked or none of the fields counts."""
    if model not in TRACKED or not set(fields) & set(TRACKED[model][0]):
        yield
        return
    before = rows_of(model, pks)
    yield
    apply(model, before=before, after=rows_of(model, pks))
