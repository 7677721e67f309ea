"""Deals as they were at a past instant, rebuilt from the change log, for the backtest.

Every write to a deal (and to the forecast category rows) goes through a service that logs
``{field: [before, after]}`` (crm/audit/changelog.py). So a value at instant T is the *before* of the
first logged change to that field after T, or, when nothing changed it since, today's value. This rolls
back from today instead of replaying from the creation, so records whose creation was never logged
(bulk-loaded data) still work: with no change after T, today's values are T's. What this cannot see
and so leaves out: deals deleted since (they are not visible to anyone now), and deals created after
T (their ``created_at`` is after it; a logged creation after T excludes one too).

Known at T, and only that: amount, currency, stage, status, probability, expected close date, close
time, owner, the time the deal entered its stage, the owner's category override and the stages'
default categories.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from crm.audit.models import Action, ObjectChange
from crm.forecast.models import DealCategory, StageCategory, Stay
from crm.forecast.periods import Period
from crm.records.models import Deal, DealStatus, Stage

DEAL_FIELDS = (
    "id",
    "owner_id",
    "pipeline_id",
    "stage_id",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "closed_at",
    "probability",
    "stage_changed_at",
)
_DATES = {"expected_close_date"}
_TIMES = {"closed_at", "stage_changed_at"}


def roll_back(current: dict | None, entries) -> dict | None:
    """A row's values at T from its values now and its log entries after T, oldest first
    (``(action, changes)``); None when the row did not exist at T."""
    entries = list(entries)
    if entries and entries[0][0] == Action.CREATE:
        return None
    if current is None and not entries:
        return None
    row = dict(current or {})
    seen: set[str] = set()
    for _action, changes in entries:
        for field, pair in (changes or {}).items():
            if field not in seen and isinstance(pair, list) and len(pair) == 2:
                seen.add(field)
                row[field] = pair[0]
    return row


def later_entries(object_type: str, ids, as_of: dt.datetime) -> dict[int, list]:
    rows = ObjectChange.objects.filter(object_type=object_type, time__gt=as_of)
    if ids is not None:
        rows = rows.filter(object_id__in=ids)
    out: dict[int, list] = {}
    for object_id, action, changes in rows.order_by("time", "id").values_list("object_id", "action", "changes"):
        out.setdefault(object_id, []).append((action, changes))
    return out


def _typed(row: dict) -> dict:
    """Values read back from the log's JSON (strings) in the types the database gives."""
    for field in _DATES:
        if isinstance(row.get(field), str):
            row[field] = dt.date.fromisoformat(row[field])
    for field in _TIMES:
        if isinstance(row.get(field), str):
            row[field] = dt.datetime.fromisoformat(row[field])
    if row.get("amount") is not None:
        row["amount"] = Decimal(str(row["amount"]))
    return row


def rows_as_of(model, as_of: dt.datetime, fields: tuple[str, ...]) -> list[dict]:
    """Every row of a (small) configuration table as it was at ``as_of``: the category tables."""
    object_type = model.change_log_type
    current = {r["id"]: r for r in model.objects.values("id", *fields)}
    later = later_entries(object_type, None, as_of)
    out = []
    for pk in current.keys() | later.keys():
        row = roll_back(current.get(pk), later.get(pk, []))
        if row is not None:
            out.append(row)
    return out


def categories_as_of(as_of: dt.datetime) -> tuple[dict[int, str], dict[int, str]]:
    """(stage → default category, deal → owner's override) at ``as_of``."""
    stages = {r["stage_id"]: r["category"] for r in rows_as_of(StageCategory, as_of, ("stage_id", "category"))}
    overrides = {r["deal_id"]: r["category"] for r in rows_as_of(DealCategory, as_of, ("deal_id", "category"))}
    return stages, overrides


def deals_as_of(visible, period: Period, as_of: dt.datetime) -> list[dict]:
    """The period's deals among ``visible`` as known at ``as_of``: open then and expected to close in
    the period, or closed by then within it. Rows carry DEAL_FIELDS."""
    existing = visible.filter(created_at__lte=as_of)
    changed_since = ObjectChange.objects.filter(object_type=Deal.object_type, time__gt=as_of).values("object_id")
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.end, dt.time.min, tzinfo=tz)
    # The reference (tests/forecast/test_asof_sql.py; the backtest does it in SQL: asof_groups.py).
    # Deals not changed since T are as they were: the period test can run in SQL. The others are read
    # and rolled back, then tested here.
    now_in_period = Q(status=DealStatus.OPEN, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    now_in_period |= ~Q(status=DealStatus.OPEN) & Q(closed_at__gte=start, closed_at__lt=end)
    return rolled_back(existing.filter(now_in_period | Q(pk__in=changed_since)), period, as_of)


def rolled_back(candidates, period: Period, as_of: dt.datetime) -> list[dict]:
    """The rows of ``candidates`` (a deal queryset) rolled back to ``as_of``, those in the period then."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.end, dt.time.min, tzinfo=tz)
    rows = list(candidates.values(*DEAL_FIELDS))
    later = later_entries(Deal.object_type, [r["id"] for r in rows], as_of)
    rolled = []
    for current in rows:
        row = roll_back(current, later.get(current["id"], []))
        if row is not None:
            rolled.append(_typed(row))
    _reopen_unlogged(rolled, as_of)
    return [row for row in rolled if _in_period_then(row, period, start, end, as_of)]


def _reopen_unlogged(rows: list[dict], as_of: dt.datetime) -> None:
    """A deal that closes after ``as_of`` was open at it, even where the change log does not say so
    (data loaded in bulk logs the creation only): its stage then is its last move up to ``as_of`` in
    the stage history (the stay it was in then), its probability that stage's and its stage time that
    move's."""
    pending = {r["id"]: r for r in rows if r["status"] != DealStatus.OPEN and r["closed_at"] and r["closed_at"] > as_of}
    if not pending:
        return
    # The stay the deal was in at ``as_of`` (crm/forecast/stays.py): entered by then, not left by then.
    # One row per deal, where the stage history would give every move up to then.
    stays = Stay.objects.filter(deal_id__in=list(pending), entered_at__lte=as_of).filter(
        Q(left_at__isnull=True) | Q(left_at__gt=as_of)
    )
    last = {deal_id: (stage_id, at) for deal_id, stage_id, at in stays.values_list("deal_id", "stage_id", "entered_at")}
    probability = dict(Stage.objects.filter(pk__in={s for s, _ in last.values()}).values_list("id", "probability"))
    for deal_id, row in pending.items():
        row["status"], row["closed_at"] = DealStatus.OPEN, None
        if deal_id in last:
            row["stage_id"], row["stage_changed_at"] = last[deal_id]
            row["probability"] = probability[row["stage_id"]]


def _in_period_then(row: dict, period: Period, start: dt.datetime, end: dt.datetime, as_of: dt.datetime) -> bool:
    if row["status"] == DealStatus.OPEN:
        close = row["expected_close_date"]
        return close is not None and period.start <= close < period.end
    closed = row["closed_at"]
    return closed is not None and start <= closed < end and closed <= as_of
