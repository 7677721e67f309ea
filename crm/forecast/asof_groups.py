"""A period's groups of alike deals as known at a past instant, summed by the database (the backtest).

``asof.deals_as_of`` rolls every candidate deal back in Python: reading ~10,000 rows with times per
instant was most of a cold backtest (docs/benchmarks.md). But a deal with no logged change after the
instant T is, at T, what it is today — except a close after T, which the change log of bulk-loaded data
may not record: then the deal was open at T in the stage of its stay at T (crm/forecast/stays.py). Both
are plain SQL: one grouped statement over the deals table for all instants, the stay at T joined in. Only the
deals whose log has entries after T (and those whose category override was changed after T) are rolled
back in Python, by the reference code in asof.py, and their groups added to the database's.

The figures are the reference's: tests/forecast/test_asof_sql.py compares both on generated history.
The candidate deals are the reference's too (those in the period today or changed since T), so the
same deals count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    return groups_at(visible, [Ask(period, at, categories, typical, day)], owners)[0]


@dataclass(frozen=True)
class Ask:
    """One as-of forecast of the backtest: the period, the instant, and what was known then (the
    categories (stage defaults, deal overrides), the usual stays) and the day then."""

    period: Period
    at: dt.datetime
    categories: tuple[dict[int, str], dict[int, str]]
    typical: dict
    day: dt.date


def groups_at(visible, asks: list[Ask], owners: set[int] | None) -> list[list[sums.Group]]:
    """``groups_as_of`` for every ask: the unchanged deals of all of them in one pass over the deals
    (the backtest's 16 instants), the others rolled back per instant."""
    moved = [_overrides_changed_since(a.at) for a in asks]
    deals = visible if owners is None else visible.filter(owner_id__in=owners)
    # Owners: only an unchanged deal's owner is today's; a rolled-back one is narrowed after its roll-back.
    out = _unchanged_groups(deals, asks, moved)
    for i, ask in enumerate(asks):
        logged = ObjectChange.objects.filter(object_type=Deal.object_type, time__gt=ask.at).values("object_id")
        in_python = Q(pk__in=logged)
        if moved[i]:
            in_python |= Q(pk__in=moved[i]) & _now_in_period(ask.period)
        rolled = asof.rolled_back(visible.filter(created_at__lte=ask.at).filter(in_python), ask.period, ask.at)
        if owners is not None:
            rolled = [r for r in rolled if r["owner_id"] in owners]
        stage_defaults, overrides = ask.categories
        for r in rolled:
            r["forecast_category__category"] = overrides.get(r["id"])
        facts = selectors.deal_facts(rolled, stage_defaults)
        out[i] += sums.groups_from_rows(facts, ask.typical, ask.day)
    return out


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


def _table(columns: tuple[str, ...], rows: list[tuple], dummy: tuple) -> tuple[str, list]:
    """A small constant table as ``SELECT … UNION ALL SELECT …`` (portable; SQLite has no ``AS t(a, b)``),
    led by a ``dummy`` row (index -1, never joined) so it is never empty and its columns are typed."""
    first = "SELECT " + ", ".join(f"%s AS {c}" for c in columns)
    rest = " UNION ALL SELECT " + ", ".join(["%s"] * len(columns))
    return first + rest * len(rows), [v for row in [dummy, *rows] for v in row]


def _unchanged_groups(deals, asks: list[Ask], moved: list[list[int]]) -> list[list[sums.Group]]:
    """Per ask, the deals with nothing logged after its instant T: today's values, reopened at T when
    they closed after it (the stay they were in then gives the stage, its probability and entry time),
    grouped. One statement for every ask: each deal row is read once and paired with the asks whose
    period it may count in. Not grouped by owner or pipeline: the backtest adds every group (its owners
    are narrowed before), and fewer groups are fewer rows to convert."""
    ops = connection.ops
    adapt, adapt_day = ops.adapt_datetimefield_value, ops.adapt_datefield_value
    columns = ("id", "currency", "status", "stage_id", "amount", "probability", "expected_close_date", "closed_at")
    # The deals as a derived table of the columns read (flattened into the scan by both databases).
    rows_sql, rows_params = deals.order_by().values(*columns, "stage_changed_at", "created_at").query.sql_with_params()
    never = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    ask_rows = []
    for i, a in enumerate(asks):
        start, end = _bounds(a.period)
        ask_rows.append((i, adapt(a.at), adapt_day(a.period.start), adapt_day(a.period.end), adapt(start), adapt(end)))
    asks_sql, asks_params = _table(
        ("idx", "instant", "p_first", "p_last", "p_start", "p_end"),
        ask_rows,
        (-1, adapt(never), *[adapt_day(never.date())] * 2, *[adapt(never)] * 2),
    )
    defaults_sql, defaults_params = _table(
        ("idx", "stage_id", "category"),
        [(i, stage, category) for i, a in enumerate(asks) for stage, category in a.categories[0].items()],
        (-1, -1, "pipeline"),
    )
    cutoffs_sql, cutoffs_params = _table(
        ("idx", "stage_id", "cutoff"),
        [
            (i, stage, adapt_day(a.day - dt.timedelta(days=int(usual))))
            for i, a in enumerate(asks)
            for stage, usual in a.typical.items()
        ],
        (-1, -1, adapt_day(never.date())),
    )
    moved_sql, moved_params = _table(
        ("idx", "deal_id"), [(i, deal) for i, deals_moved in enumerate(moved) for deal in deals_moved], (-1, -1)
    )
    # Reopened: closed today, but after T (the reference's ``_reopen_unlogged``).
    reopened = "(d.status <> 'open' AND d.closed_at > i.instant)"
    is_open = f"(d.status = 'open' OR {reopened})"
    stage = "COALESCE(st.stage_id, d.stage_id)"
    entered_day, entered_params = local_date_sql("COALESCE(st.entered_at, d.stage_changed_at)")
    closed_day, closed_params = local_date_sql("d.closed_at")
    close = f"CASE WHEN {is_open} THEN d.expected_close_date ELSE {closed_day} END"
    integer = "INTEGER" if connection.vendor == "sqlite" else "BIGINT"
    sql = f"""
        WITH i AS ({asks_sql}), sd AS ({defaults_sql}), c AS ({cutoffs_sql}), mo AS ({moved_sql})
        SELECT i.idx, d.currency,
               CASE WHEN {is_open} THEN 'open' ELSE d.status END,
               CASE WHEN {is_open} THEN {stage} END,
               CASE WHEN {is_open} THEN COALESCE(NULLIF(dc.category, ''), sd.category, 'pipeline')
                    WHEN d.status = 'won' THEN 'closed' ELSE 'omitted' END,
               CASE WHEN {is_open} THEN COALESCE(sp.probability, d.probability) ELSE 0 END,
               CASE WHEN UPPER(d.currency) = %s THEN NULL ELSE {close} END,
               CASE WHEN {is_open} AND {entered_day} < c.cutoff THEN {entered_day} END,
               COUNT(*), SUM(CAST(ROUND(COALESCE(d.amount, 0) * 100) AS {integer}))
        FROM ({rows_sql}) d CROSS JOIN i
        LEFT JOIN {Stay._meta.db_table} st ON st.deal_id = d.id AND {reopened}
             AND st.entered_at <= i.instant AND (st.left_at IS NULL OR st.left_at > i.instant)
        LEFT JOIN {Stage._meta.db_table} sp ON sp.id = st.stage_id
        LEFT JOIN {DealCategory._meta.db_table} dc ON dc.deal_id = d.id
        LEFT JOIN sd ON sd.idx = i.idx AND sd.stage_id = {stage}
        LEFT JOIN c ON c.idx = i.idx AND c.stage_id = {stage}
        WHERE d.created_at <= i.instant
          AND ((d.status = 'open' AND d.expected_close_date >= i.p_first AND d.expected_close_date < i.p_last)
               OR (d.status <> 'open' AND d.closed_at >= i.p_start AND d.closed_at < i.p_end
                   AND (d.closed_at <= i.instant
                        OR (d.expected_close_date >= i.p_first AND d.expected_close_date < i.p_last))))
          AND NOT EXISTS (SELECT 1 FROM {ObjectChange._meta.db_table} oc
                          WHERE oc.object_type = %s AND oc.object_id = d.id AND oc.time > i.instant)
          AND NOT EXISTS (SELECT 1 FROM mo WHERE mo.idx = i.idx AND mo.deal_id = d.id)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""
    params = [
        *asks_params, *defaults_params, *cutoffs_params, *moved_params,
        organization_currency(), *closed_params,  # rate day
        *entered_params, *entered_params,  # entered day
        *rows_params, Deal.object_type,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out: list[list[sums.Group]] = [[] for _ in asks]
    for idx, currency, status, stage_id, category, probability, on, entered, count, cents in rows:
        cents, probability = int(cents), int(probability)
        weighted = cents * probability * 100 if status == DealStatus.OPEN else 0  # no past scores: stage's
        out[idx].append(
            sums.Group(
                None, None, currency, status, stage_id, category, probability, _day(on), _day(entered),
                count, cents, weighted,
            )
        )  # fmt: skip
    return out


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
