"""The usual-stay histogram kept: completed stays counted per (stage, days), kept with the stays.

The ``age`` method's usual stay per stage is the median of a histogram of completed stays. Counting
it from the stays table is a ``GROUP BY`` with two date computations per completed stay (8 s at
300,000 deals); the histogram only changes when a deal's stays do, so it is kept (``StayCount``)
by the same mechanism that keeps the stays (crm/forecast/stays.py): ``stays.refresh`` subtracts the
moved deals' completed stays before recomputing them and adds them after, ``stays.rebuild`` rebuilds
the counts too, and a deal's deletion subtracts its stays before the cascade removes them
(``deal_deleting``, a ``pre_delete`` receiver).

Days are counted between local dates, so the counts belong to one time zone: the organization's
(``settings.TIME_ZONE``) when they were built. A marker row (stage 0) says the counts of a zone are
complete; without it (another zone, never built) the reader counts from the stays table as before.
Only the question "every completed stay, now" is kept: a viewer who sees some deals only, a user's
own time zone, and the backtest's as-of instants read the stays table (crm/forecast/history.py).
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm.forecast.models import Stay, StayCount

MARK = 0  # stage_id of the row saying a zone's counts are complete


def _grouped(where: str = "1 = 1", params=()) -> Counter:
    """Completed stays per (stage, days) among the stays matching ``where``, in the organization's zone."""
    from crm.forecast import history  # history reads the kept counts: imported here, not at the top

    with timezone.override(settings.TIME_ZONE):
        (this_day, this_params), (next_day, next_params) = (
            history.local_date_sql("entered_at"),
            history.local_date_sql("left_at"),
        )
    sql = f"""
        SELECT stage_id, days, COUNT(*) FROM (
            SELECT stage_id, {history.days_sql(this_day, next_day)} AS days FROM {Stay._meta.db_table}
            WHERE left_at IS NOT NULL AND {where}
        ) stays GROUP BY stage_id, days"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*next_params, *this_params, *params])
        return Counter({(stage_id, int(days)): count for stage_id, days, count in cursor.fetchall()})


def complete(zone: str | None = None) -> bool:
    return StayCount.objects.filter(zone=zone or settings.TIME_ZONE, stage_id=MARK).exists()


def of_deals(deal_ids: list[int]) -> Counter | None:
    """The completed stays of ``deal_ids`` (before their stays change); None when nothing is kept."""
    if not complete():
        return None
    return _grouped(f"deal_id IN ({', '.join(['%s'] * len(deal_ids))})", deal_ids)


def add(before: Counter | None, after: Counter | None) -> None:
    """The counts moved from ``before`` to ``after`` (the same deals' stays, old and new)."""
    if before is None or after is None:
        return
    delta = Counter(after)
    delta.subtract(before)
    rows = [(settings.TIME_ZONE, stage, days, n) for (stage, days), n in delta.items() if n]
    if not rows:
        return
    table = StayCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (zone, stage_id, days, count) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (zone, stage_id, days) DO UPDATE SET count = {table}.count + excluded.count",
            rows,
        )
        cursor.execute(f"DELETE FROM {table} WHERE count = 0")


def deal_deleting(sender, instance, **kwargs) -> None:
    """``pre_delete`` of a Deal: its completed stays leave the counts (the cascade removes them)."""
    add(of_deals([instance.pk]), Counter())


@transaction.atomic
def rebuild() -> None:
    """The counts of the organization's zone from the whole stays table (after ``stays.rebuild``)."""
    zone = settings.TIME_ZONE
    StayCount.objects.all().delete()  # another zone's counts could not be kept up to date
    rows = [StayCount(zone=zone, stage_id=stage, days=days, count=n) for (stage, days), n in _grouped().items()]
    StayCount.objects.bulk_create([*rows, StayCount(zone=zone, stage_id=MARK, days=0, count=1)], batch_size=1000)


def kept() -> dict[int, dict[int, int]] | None:
    """Per stage: {days: completed stays}, from the kept counts of the current time zone; None when the
    current zone's counts are not kept (the reader then counts from the stays table)."""
    zone = timezone.get_current_timezone_name()
    if not complete(zone):
        return None
    out: dict[int, dict[int, int]] = {}
    for stage_id, days, count in (
        StayCount.objects.filter(zone=zone, count__gt=0).exclude(stage_id=MARK).values_list("stage_id", "days", "count")
    ):
        out.setdefault(stage_id, {})[days] = count
    return out


def differences() -> list[tuple]:
    """(stage, days, kept, counted) where the kept counts differ from the stays table's; empty when true
    (or when nothing is kept)."""
    if not complete():
        return []
    counted = _grouped()
    kept_rows = Counter(
        {
            (s, d): n
            for s, d, n in StayCount.objects.filter(zone=settings.TIME_ZONE)
            .exclude(stage_id=MARK)
            .values_list("stage_id", "days", "count")
        }
    )
    keys = sorted(set(counted) | set(kept_rows))
    return [(s, d, kept_rows[(s, d)], counted[(s, d)]) for s, d in keys if kept_rows[(s, d)] != counted[(s, d)]]
