"""What the ``history`` and ``age`` methods learn, counted by the database instead of in Python.

Same figures as ``methods.win_rates`` and ``methods.typical_days`` (tests/forecast/test_history_sql.py
compares them on generated data), but only a few rows per stage come back: the per-stage counts of
closed deals that reached the stage (and of those, the won ones), and a histogram of completed stays
(stage, days, how many), whose median is taken here. At 300,000 deals this is the difference between
reading a million stage-history rows into Python and reading a few hundred.

``as_of`` (an aware datetime) limits both to what was known at that instant, for the backtest: stage
moves up to it, and closed deals that had closed by then and whose outcome has not changed since (a
deal reopened or re-closed after ``as_of`` is left out of the sample rather than counted with an
outcome learnt later).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.forecast import staycounts
from crm.forecast.methods import MIN_SAMPLE
from crm.forecast.models import Stay
from crm.records.models import Deal, DealStatus, StageChange


def closed_sample(deals, as_of: dt.datetime | None = None):
    """The closed deals among ``deals`` the conversion rates learn from (as known at ``as_of``)."""
    closed = deals.filter(status__in=(DealStatus.WON, DealStatus.LOST))
    if as_of is None:
        return closed
    changed_later = ObjectChange.objects.filter(
        object_type=Deal.object_type, object_id=OuterRef("pk"), time__gt=as_of, changes__has_key="status"
    )
    return closed.filter(closed_at__lte=as_of).exclude(Exists(changed_later))


def win_rates(deals, *, as_of: dt.datetime | None = None, min_sample: int = MIN_SAMPLE) -> dict[int, Decimal]:
    """Per stage: won ÷ closed deals that reached it, for stages at least ``min_sample`` closed deals reached."""
    closed = closed_sample(deals, as_of)
    moves = StageChange.objects.filter(deal_id__in=closed.values("pk"))
    if as_of is not None:
        moves = moves.filter(changed_at__lte=as_of)
    rows = (
        moves.order_by()
        .values("to_stage_id")
        .annotate(
            reached=Count("deal_id", distinct=True),
            won=Count("deal_id", distinct=True, filter=Q(deal__status=DealStatus.WON)),
        )
        .filter(reached__gte=min_sample)
    )
    return {r["to_stage_id"]: Decimal(r["won"]) / Decimal(r["reached"]) for r in rows}


def stay_histogram(deals, *, as_of: dt.datetime | None = None) -> dict[int, dict[int, int]]:
    """Per stage: {days: number of completed stays that long}. A stay ends with the deal's next move;
    days count between the local dates of the two moves (as methods.typical_days does). Read from the
    kept stays (crm/forecast/stays.py): a stay paired over the moves known at ``as_of`` is a completed
    one exactly when it ended by then (the moves known then are a prefix of each deal's moves). Every
    deal's stays now, in the organization's zone, are read from the kept counts (staycounts.py)."""
    visible, visible_params = _visible_sql(deals)
    if as_of is None and not visible_params and visible == "1 = 1":  # every stay, now: the kept counts
        kept = staycounts.kept()
        if kept is not None:
            return kept
    (this_day, this_params), (next_day, next_params) = local_date_sql("entered_at"), local_date_sql("left_at")
    known = "AND left_at <= %s" if as_of is not None else ""
    known_params = [connection.ops.adapt_datetimefield_value(as_of)] if as_of is not None else []
    sql = f"""
        SELECT stage_id, days, COUNT(*) FROM (
            SELECT stage_id, {days_sql(this_day, next_day)} AS days FROM {Stay._meta.db_table}
            WHERE left_at IS NOT NULL {known} AND {visible}
        ) stays GROUP BY stage_id, days"""
    params = [*next_params, *this_params, *known_params, *visible_params]
    out: dict[int, dict[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for stage_id, length, count in cursor.fetchall():
            out.setdefault(stage_id, {})[int(length)] = count
    return out


def local_date_sql(column: str) -> tuple[str, tuple]:
    """SQL for the local date of a stored time. SQLite stores UTC text: with TIME_ZONE UTC its own
    date() reads it, many times faster than Django's Python function (which any other zone needs,
    for its daylight-saving rules)."""
    tz = timezone.get_current_timezone_name()
    if connection.vendor == "sqlite" and tz == "UTC":
        return f"date({column})", ()
    return connection.ops.datetime_cast_date_sql(column, (), tz)


def median_of(histogram: dict[int, int]) -> Decimal:
    """The median of the values a histogram counts, as ``statistics.median`` gives it."""
    total = sum(histogram.values())
    low_rank, high_rank = (total - 1) // 2, total // 2
    low = high = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > low_rank:
            low = value
        if seen > high_rank:
            high = value
            break
    if low == high:
        return Decimal(low)
    return Decimal(str((low + high) / 2))


def typical_days(deals, *, as_of: dt.datetime | None = None, min_sample: int = MIN_SAMPLE) -> dict[int, Decimal]:
    """Per stage: the median completed stay, for stages with at least ``min_sample`` of them."""
    return {
        stage_id: median_of(histogram)
        for stage_id, histogram in stay_histogram(deals, as_of=as_of).items()
        if sum(histogram.values()) >= min_sample
    }


# The backtest asks what was known at 16 instants. Asking the two questions above 16 times costs 16
# passes over the stage history (the window and the semi-joins); instead each row (a completed stay, a
# closed deal's first arrival in a stage) is tagged once with the first of the instants at which it
# was known — a CASE over the sorted instants — and counted per tag. The figures at an instant are the
# counts of its tag and the earlier ones: one pass for every instant, the same numbers as ``as_of``.


def _first_known(column: str, instants: list[dt.datetime]) -> tuple[str, list]:
    """SQL for the position of the first of ``instants`` (ascending) at or after ``column``; len(instants)
    when none (a row known only after the last one). ``column`` may be a condition list joined by AND."""
    whens = " ".join(f"WHEN {column.replace('%T', '%s')} THEN {i}" for i in range(len(instants)))
    count = column.count("%T")
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM writes a time: UTC text on SQLite
    params = [adapt(at) for at in instants for _ in range(count)]
    return f"CASE {whens} ELSE {len(instants)} END", params


def typical_days_at(deals, instants: list[dt.datetime], *, min_sample: int = MIN_SAMPLE) -> list[dict[int, Decimal]]:
    """``typical_days(deals, as_of=at)`` for each of ``instants`` (ascending), from one pass over the
    kept stays: a stay is a completed one at ``at`` exactly when it ended at or before ``at``."""
    visible, visible_params = _visible_sql(deals)
    (this_day, this_params), (next_day, next_params) = local_date_sql("entered_at"), local_date_sql("left_at")
    days = days_sql(this_day, next_day)
    tag, tag_params = _first_known("left_at <= %T", instants)
    sql = f"""
        SELECT stage_id, days, tag, COUNT(*) FROM (
            SELECT stage_id, {days} AS days, {tag} AS tag FROM {Stay._meta.db_table}
            WHERE left_at IS NOT NULL AND {visible}
        ) stays WHERE tag < %s GROUP BY stage_id, days, tag"""
    params = [*next_params, *this_params, *tag_params, *visible_params, len(instants)]
    histograms: list[dict[int, dict[int, int]]] = [{} for _ in instants]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for stage_id, length, first, count in cursor.fetchall():
            for i in range(first, len(instants)):
                bucket = histograms[i].setdefault(stage_id, {})
                bucket[int(length)] = bucket.get(int(length), 0) + count
    return [
        {s: median_of(h) for s, h in histogram.items() if sum(h.values()) >= min_sample} for histogram in histograms
    ]


def win_rates_at(deals, instants: list[dt.datetime], *, min_sample: int = MIN_SAMPLE) -> list[dict[int, Decimal]]:
    """``win_rates(deals, as_of=at)`` for each of ``instants`` (ascending), from one pass. A closed deal
    counts for a stage at ``at`` when it had reached the stage by then, had closed by then, and no
    change of its status was logged after ``at`` (as ``closed_sample``): when the latest of those three
    times is at or before ``at``."""
    closed = deals.filter(status__in=(DealStatus.WON, DealStatus.LOST))
    closed_sql, closed_params = closed.order_by().values("pk").query.sql_with_params()
    status_changes = (
        ObjectChange.objects.filter(object_type=Deal.object_type, changes__has_key="status", time__gt=instants[0])
        .order_by()
        .values("object_id")
        .annotate(last=Max("time"))
    )
    changes_sql, changes_params = status_changes.query.sql_with_params()
    tag, tag_params = _first_known(
        "r.reached_at <= %T AND d.closed_at <= %T AND (c.last IS NULL OR c.last <= %T)", instants
    )
    sql = f"""
        SELECT r.to_stage_id, {tag} AS tag, d.status, COUNT(*)
        FROM (SELECT deal_id, to_stage_id, MIN(changed_at) AS reached_at FROM {StageChange._meta.db_table}
              WHERE deal_id IN ({closed_sql}) GROUP BY deal_id, to_stage_id) r
        JOIN {Deal._meta.db_table} d ON d.id = r.deal_id
        LEFT JOIN ({changes_sql}) c ON c.object_id = r.deal_id
        GROUP BY r.to_stage_id, tag, d.status"""
    params = [*tag_params, *closed_params, *changes_params]
    reached: list[dict[int, list[int]]] = [{} for _ in instants]  # stage → [reached, won]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for stage_id, first, status, count in cursor.fetchall():
            for i in range(first, len(instants)):
                pair = reached[i].setdefault(stage_id, [0, 0])
                pair[0] += count
                pair[1] += count if status == DealStatus.WON else 0
    return [{s: Decimal(won) / Decimal(n) for s, (n, won) in counts.items() if n >= min_sample} for counts in reached]


def _visible_sql(deals) -> tuple[str, tuple]:
    if deals.query.where:
        try:
            sql, params = deals.values("pk").query.sql_with_params()
        except EmptyResultSet:  # a viewer who may see no deal (``.none()``): no stays, not a 500
            return "1 = 0", ()
        return f"deal_id IN ({sql})", params
    return "1 = 1", ()  # every deal (an admin): no semi-join


def days_sql(this_day: str, next_day: str) -> str:
    if connection.vendor == "sqlite":
        return f"CAST(julianday({next_day}) - julianday({this_day}) AS INTEGER)"
    return f"({next_day} - {this_day})"
