"""A period's groups of alike deals as known at a past instant, summed by the database (the backtest).

``asof.deals_as_of`` rolls every candidate deal back in Python: reading ~10,000 rows with times per
instant was most of a cold backtest (docs/benchmarks.md). But a deal with no logged change after the
instant T is, at T, what it is today — except a close after T, which the change log of bulk-loaded data
may not record: then the deal was open at T in the stage of its stay at T (crm/forecast/stays.py). Both
are plain SQL: one grouped query per instant over the deals table, the stay at T joined in. Only the
deals whose log has entries after T (and those whose category override was changed after T) are rolled
back in Python, by the reference code in asof.py, and their groups added to the database's.

The figures are the reference's: tests/forecast/test_asof_sql.py compares both on generated history.
The candidate deals are the reference's too (those in the period today or changed since T), so the
same deals count.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.forecast import asof, selectors, sums
from crm.forecast.history import local_date_sql
from crm.forecast.models import DealCategory, Stay
from crm.forecast.periods import Period
from crm.money.currencies import organization_currency
from crm.records.models import Deal, DealStatus, Stage


def groups_as_of(
    visible,
    period: Period,
    at: dt.datetime,
    owners: set[int] | None,
    categories: tuple[dict[int, str], dict[int, str]],
    typical: dict,
    day: dt.date,
) -> list[sums.Group]:
    """The groups (crm/forecast/sums.py) of the period's deals among ``visible`` as known at ``at``, owned
    then by ``owners`` (None: any); ``categories``: (stage defaults, deal overrides) at ``at``."""
    stage_defaults, overrides = categories
    existing = visible.filter(created_at__lte=at)
    if owners is not None:
        # Only an unchanged deal's owner is today's; a rolled-back one is narrowed after its roll-back.
        owned = Q(owner_id__in=owners)
    # Deals with log entries after ``at``: one pass over the log's (type, object, time) index, once.
    logged = Q(pk__in=ObjectChange.objects.filter(object_type=Deal.object_type, time__gt=at).values("object_id"))
    moved_overrides = _overrides_changed_since(at)
    unchanged = existing.filter(_now_in_period(period)).exclude(logged).exclude(pk__in=moved_overrides)
    if owners is not None:
        unchanged = unchanged.filter(owned)
    groups = _unchanged_groups(unchanged, period, at, stage_defaults, typical, day)
    in_python = logged | (Q(pk__in=moved_overrides) & _now_in_period(period)) if moved_overrides else logged
    rolled = asof.rolled_back(existing.filter(in_python), period, at)
    if owners is not None:
        rolled = [r for r in rolled if r["owner_id"] in owners]
    for r in rolled:
        r["forecast_category__category"] = overrides.get(r["id"])
    facts = selectors.deal_facts(rolled, stage_defaults)
    return groups + sums.groups_from_rows(facts, typical, day)


def _now_in_period(period: Period) -> Q:
    """The reference's candidates among unchanged deals: in the period as they are today."""
    start, end = _bounds(period)
    open_now = Q(status=DealStatus.OPEN, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    return open_now | (~Q(status=DealStatus.OPEN) & Q(closed_at__gte=start, closed_at__lt=end))


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(period.start, dt.time.min, tzinfo=tz), dt.datetime.combine(
        period.end, dt.time.min, tzinfo=tz
    )


def _overrides_changed_since(at: dt.datetime) -> list[int]:
    """Deals whose category override row was logged after ``at`` (its value then is not today's): their
    current deal and the one the rolled-back row names. A handful: these go the Python way."""
    later = asof.later_entries(DealCategory.change_log_type, None, at)
    if not later:
        return []
    deals = set(DealCategory.objects.filter(pk__in=list(later)).values_list("deal_id", flat=True))
    for entries in later.values():
        for _action, changes in entries:
            pair = (changes or {}).get("deal_id")
            if isinstance(pair, list):
                deals.update(v for v in pair if v is not None)
    return sorted(deals)


def _case(column: str, mapping: dict, default_sql: str) -> tuple[str, list]:
    if not mapping:
        return default_sql, []
    whens = " ".join("WHEN %s THEN %s" for _ in mapping)
    return f"(CASE {column} {whens} ELSE {default_sql} END)", [v for pair in mapping.items() for v in pair]


def _unchanged_groups(deals, period, at, stage_defaults, typical, day) -> list[sums.Group]:
    """Deals with nothing logged after ``at``: today's values, reopened at ``at`` when they closed after
    it (the stay they were in then gives the stage, its probability and entry time), grouped. Not by
    owner or pipeline: the backtest adds every group (its owners are narrowed before), and fewer
    groups are fewer rows to convert."""
    # The deals as a derived table of the columns read (SQLite and PostgreSQL flatten it into the scan),
    # not ``id IN (...)``: that read the deal table twice.
    columns = ("id", "currency", "status", "stage_id", "amount", "probability", "expected_close_date", "closed_at")
    rows_sql, rows_params = deals.order_by().values(*columns, "stage_changed_at").query.sql_with_params()
    adapt = connection.ops.adapt_datetimefield_value
    t = adapt(at)
    start, end = _bounds(period)
    # Reopened: closed today, but after ``at`` (the reference's ``_reopen_unlogged``).
    reopened = "(d.status <> 'open' AND d.closed_at > %s)"
    is_open = f"(d.status = 'open' OR {reopened})"
    stage = "COALESCE(st.stage_id, d.stage_id)"
    entered_at = "COALESCE(st.entered_at, d.stage_changed_at)"
    entered_day, entered_params = local_date_sql(entered_at)
    closed_day, closed_params = local_date_sql("d.closed_at")
    default, default_params = _case(stage, stage_defaults, "'pipeline'")
    cutoffs = {s: day - dt.timedelta(days=int(usual)) for s, usual in typical.items()}
    cutoff, cutoff_params = _case(stage, cutoffs, "NULL")
    close = f"CASE WHEN {is_open} THEN d.expected_close_date ELSE {closed_day} END"
    integer = "INTEGER" if connection.vendor == "sqlite" else "BIGINT"
    sql = f"""
        SELECT d.currency,
               CASE WHEN {is_open} THEN 'open' ELSE d.status END,
               CASE WHEN {is_open} THEN {stage} END,
               CASE WHEN {is_open} THEN COALESCE(NULLIF(dc.category, ''), {default})
                    WHEN d.status = 'won' THEN 'closed' ELSE 'omitted' END,
               CASE WHEN {is_open} THEN COALESCE(sp.probability, d.probability) ELSE 0 END,
               CASE WHEN UPPER(d.currency) = %s THEN NULL ELSE {close} END,
               CASE WHEN {is_open} AND {entered_day} < {cutoff} THEN {entered_day} END,
               COUNT(*), SUM(CAST(ROUND(COALESCE(d.amount, 0) * 100) AS {integer}))
        FROM ({rows_sql}) d
        LEFT JOIN {Stay._meta.db_table} st ON st.deal_id = d.id AND {reopened}
             AND st.entered_at <= %s AND (st.left_at IS NULL OR st.left_at > %s)
        LEFT JOIN {Stage._meta.db_table} sp ON sp.id = st.stage_id
        LEFT JOIN {DealCategory._meta.db_table} dc ON dc.deal_id = d.id
        WHERE ((d.status = 'open' AND d.expected_close_date >= %s AND d.expected_close_date < %s)
               OR (d.status <> 'open' AND d.closed_at >= %s AND d.closed_at < %s
                   AND (d.closed_at <= %s
                        OR (d.expected_close_date >= %s AND d.expected_close_date < %s))))
        GROUP BY 1, 2, 3, 4, 5, 6, 7"""
    select_params = [
        t,  # status
        t,  # stage
        t, *default_params,  # category
        t,  # probability
        organization_currency(), t, *closed_params,  # rate day
        t, *entered_params, *cutoff_params, *entered_params,  # entered day
    ]  # fmt: skip
    first, last = connection.ops.adapt_datefield_value(period.start), connection.ops.adapt_datefield_value(period.end)
    join_params = [*rows_params, t, t, t]
    where_params = [first, last, adapt(start), adapt(end), t, first, last]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *join_params, *where_params])
        rows = cursor.fetchall()
    out = []
    for currency, status, stage_id, category, probability, on, entered, count, cents in rows:
        cents, probability = int(cents), int(probability)
        weighted = cents * probability * 100 if status == DealStatus.OPEN else 0  # no past scores: stage's
        out.append(
            sums.Group(
                None, None, currency, status, stage_id, category, probability, _day(on), _day(entered),
                count, cents, weighted,
            )
        )  # fmt: skip
    return out


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
