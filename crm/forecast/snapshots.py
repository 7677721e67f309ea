"""Weekly forecast snapshots: how the forecast of a period moved, week by week.

The ``forecast.snapshot`` job (every Monday, 05:00 in TIME_ZONE; the schedule is made the first time
the forecast is read) stores, for the current month, quarter and fiscal year, every figure
(sums.FIGURES) for the total, each team and each owner. Running it again in the same week replaces
that week's rows: one set per week, whatever the retries.

Each scope's figures are computed from that scope's deals only, history methods included (a team's
conversion rates are learnt from the team's deals), so a row holds nothing from deals outside it.
A reader sees a row only when every deal of its scope is one they may see: their own owner row, the
owners in their team scope, a team whose members and manager are all in it, the total when they see
every deal (``selectors.visible_deals``: a role that hides amounts sees none).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.automation import jobs
from crm.forecast import categories, periods, selectors, sums
from crm.forecast.models import Scope, Snapshot
from crm.forecast.periods import Period
from crm.money.rates import MissingRate
from crm.records.models import Deal

log = logging.getLogger("crm.forecast")
JOB = "forecast.snapshot"
CRON = "0 5 * * 1"
NONE = 0  # scope_id of the total, of "no owner" and of "no team"


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def team_owners() -> dict[int, set[int]]:
    """Each team's owners: its members and its manager."""
    out: dict[int, set[int]] = {t: ({m} if m else set()) for t, m in Team.objects.values_list("id", "manager_id")}
    for user_id, team_id in Profile.objects.filter(team__isnull=False).values_list("user_id", "team_id"):
        out[team_id].add(user_id)
    return out


def _scopes(period: Period) -> list[tuple[str, int, object]]:
    """(scope, scope_id, its deals) for the total, each team and each owner with deals in the period."""
    every = Deal.objects.all()
    out = [(Scope.TOTAL, NONE, every)]
    for team_id, owners in sorted(team_owners().items()):
        out.append((Scope.TEAM, team_id, every.filter(owner_id__in=owners)))
    owner_ids = selectors.in_period(every, period).order_by().values_list("owner_id", flat=True).distinct()
    for owner_id in sorted(set(owner_ids), key=lambda o: (o is None, o or 0)):
        deals = every.filter(owner__isnull=True) if owner_id is None else every.filter(owner_id=owner_id)
        out.append((Scope.OWNER, owner_id or NONE, deals))
    return out


def _rows(period: Period, today: dt.date, week: dt.date, taken_at: dt.datetime) -> list[Snapshot]:
    rows = []
    for scope, scope_id, deals in _scopes(period):
        c = selectors.computed_from(deals, period, today=today)
        figures = c.figures()
        for figure in sums.FIGURES:
            rows.append(
                Snapshot(
                    week=week,
                    taken_at=taken_at,
                    period_kind=period.kind,
                    period_start=period.start,
                    scope=scope,
                    scope_id=scope_id,
                    figure=figure,
                    amount=figures[figure],
                    currency=c.org,
                    deal_count=figures["count"],
                )
            )
    return rows


def take(now: dt.datetime | None = None) -> int:
    """This week's snapshot of the current month, quarter and year (replacing one taken earlier this
    week); a period that cannot be converted (a missing rate) is logged and skipped."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    week, fy = week_of(today), categories.fiscal_year_start()
    written = 0
    for kind in periods.KINDS:
        period = periods.containing(kind, today, fy)
        try:
            rows = _rows(period, today, week, now)
        except MissingRate as exc:
            log.warning("forecast snapshot of %s skipped: %s", period.key, exc.message)
            continue
        with transaction.atomic():
            Snapshot.objects.filter(week=week, period_kind=period.kind, period_start=period.start).delete()
            Snapshot.objects.bulk_create(rows)
        written += len(rows)
    return written


@jobs.handler(JOB, atomic=False)
def snapshot_job(job) -> dict:
    return {"rows": take()}


def install_schedule() -> None:
    """The weekly run, made the first time the forecast is read."""
    from crm.automation.models import Schedule
    from crm.automation.scheduler import next_time

    if not Schedule.objects.filter(key=JOB).exists():
        schedule = Schedule(key=JOB, job_kind=JOB, cron=CRON)
        schedule.next_run_at = next_time(schedule, timezone.now())
        schedule.save()


def _readable(user) -> tuple[set[int] | None, set[int] | None]:
    """(owner ids, team ids) whose rows ``user`` may read; None: all (and the total)."""
    selectors.visible_deals(user)  # 403 for a role that hides amounts
    owners = policy_for(user).visible_owner_ids()
    if owners is None:
        return None, None
    teams = {t for t, members in team_owners().items() if members and members <= owners}
    return set(owners), teams


def history(user, period: Period, figure: str) -> dict:
    """The weekly values of one figure of ``period`` for every scope ``user`` may read: ``weeks``
    (oldest first) and ``series`` (total, teams, owners; one value per week, None where not taken)."""
    owners, teams = _readable(user)
    rows = Snapshot.objects.filter(period_kind=period.kind, period_start=period.start, figure=figure)
    if owners is not None:
        rows = rows.filter(scope=Scope.OWNER, scope_id__in=owners) | rows.filter(scope=Scope.TEAM, scope_id__in=teams)
    weeks: set[dt.date] = set()
    values: dict[tuple[str, int], dict[dt.date, Decimal]] = {}
    for scope, scope_id, week, amount in rows.values_list("scope", "scope_id", "week", "amount"):
        weeks.add(week)
        values.setdefault((scope, scope_id), {})[week] = amount
    ordered = sorted(weeks)
    names = _names(values)
    order = {Scope.TOTAL: 0, Scope.TEAM: 1, Scope.OWNER: 2}
    series = [
        {"scope": key[0], "id": key[1] or None, "name": names[key], "values": [v.get(w) for w in ordered]}
        for key, v in sorted(values.items(), key=lambda kv: (order[kv[0][0]], names[kv[0]]))
    ]
    return {"weeks": ordered, "series": series}


def _names(values) -> dict[tuple[str, int], str]:
    from crm.forecast.quotas import user_names

    team_names = dict(Team.objects.filter(pk__in=[i for s, i in values if s == Scope.TEAM]).values_list("id", "name"))
    people = user_names([i for s, i in values if s == Scope.OWNER and i])
    out = {}
    for scope, scope_id in values:
        if scope == Scope.TOTAL:
            out[(scope, scope_id)] = "Total"
        elif scope == Scope.TEAM:
            out[(scope, scope_id)] = team_names.get(scope_id, "Team")
        else:
            out[(scope, scope_id)] = people.get(scope_id, "No owner") if scope_id else "No owner"
    return out
