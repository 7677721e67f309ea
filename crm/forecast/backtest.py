"""The backtest: how close each method's forecast of past periods came to what was actually won.

For each of the last ``count`` periods before the current one and each point before or inside it
(``start``: its first day at midnight, ``midway``: the middle day at midnight), every method's forecast
is computed from what was known at that instant only (crm/forecast/asof.py: the deals' values then,
the stage history up to then, the closed-deal sample as known then, the categories then, exchange
rates dated on or before it). Beside it, what was actually won in the period (today's data: the
deals won in it, at their close dates' rates). Errors per method over every (period, point) with
something won: MAPE = mean |forecast − actual| ÷ actual, bias = mean (forecast − actual) ÷ actual,
both in percent (a positive bias forecasts too much). The most accurate method is the lowest MAPE.

Everything is read through ``selectors.visible_deals(user)``: the backtest of what the viewer may
see, optionally narrowed to one owner or one team (by the owner the deal had at the instant).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from crm.access.policy import policy_for
from crm.core.errors import NotFound
from crm.forecast import asof, asof_groups, categories, history, memo, periods, selectors, snapshots, sums
from crm.forecast.periods import Period
from crm.money.currencies import organization_currency
from crm.money.rates import RateTable
from crm.records.models import DealStatus

METHODS = (
    ("stage", "Weighted (stage)"),
    ("history", "Weighted (history)"),
    ("age", "Age-adjusted"),
    ("commit_total", "Commit"),
    ("best_case_total", "Best case"),
)
LABELS = dict(METHODS)
POINTS = ("start", "midway")
DEFAULT_COUNT = 8
MAX_COUNT = 24


def instant(period: Period, point: str) -> dt.datetime:
    """Midnight (local time) of the period's first day, or of its middle day."""
    day = period.start
    if point == "midway":
        day += dt.timedelta(days=(period.end - period.start).days // 2)
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def past_periods(kind: str, count: int, today: dt.date) -> list[Period]:
    """The ``count`` periods of ``kind`` before the one ``today`` is in, oldest first."""
    fy = categories.fiscal_year_start()
    current = periods.containing(kind, today, fy)
    return [periods.shifted(current, -i, fy) for i in range(count, 0, -1)]


def forecast_as_of(
    visible,
    period: Period,
    at: dt.datetime,
    owners: set[int] | None = None,
    *,
    learnt: tuple[dict, dict] | None = None,
    reference: bool = False,
) -> dict[str, Decimal]:
    """Each method's total for ``period`` as it would have been computed at ``at``. ``learnt``: what the
    history methods knew at ``at`` (conversion rates, usual stays), when the caller already has it.
    The deals then are grouped by the database (crm/forecast/asof_groups.py); ``reference``: every one
    rolled back in Python instead (asof.deals_as_of), the slow path the tests compare it with."""
    if learnt is None:
        learnt = (history.win_rates(visible, as_of=at), history.typical_days(visible, as_of=at))
    if reference:
        then, day = asof.categories_as_of(at), timezone.localdate(at)
        groups = _groups_in_python(visible, period, at, owners, then, learnt[1], day)
        return _figures(groups, learnt, day)
    return forecasts_as_of(visible, [(period, at)], owners, {at: learnt})[0]


def forecasts_as_of(visible, asks: list[tuple[Period, dt.datetime]], owners, learnt: dict) -> list[dict[str, Decimal]]:
    """``forecast_as_of`` for each (period, instant) of ``asks``, the deals of all of them grouped by the
    database in one statement (crm/forecast/asof_groups.py); ``learnt``: instant → (rates, usual stays)."""
    full = [
        asof_groups.Ask(period, at, asof.categories_as_of(at), learnt[at][1], timezone.localdate(at))
        for period, at in asks
    ]
    grouped = asof_groups.groups_at(visible, full, owners)
    return [_figures(groups, learnt[a.at], a.day) for a, groups in zip(full, grouped, strict=True)]


def _figures(groups: list[sums.Group], learnt: tuple[dict, dict], day: dt.date) -> dict[str, Decimal]:
    rates, typical = learnt
    table = RateTable({g.currency for g in groups}, until=day)
    computed = sums.Rollup(groups, rates=rates, typical=typical, today=day, table=table, known_by=day)
    figures = computed.figures()
    return {key: figures[key] for key, _label in METHODS}


def _groups_in_python(visible, period, at, owners, then, typical, day) -> list[sums.Group]:
    rows = asof.deals_as_of(visible, period, at)
    if owners is not None:
        rows = [r for r in rows if r["owner_id"] in owners]
    stage_defaults, overrides = then
    for r in rows:
        r["forecast_category__category"] = overrides.get(r["id"])
    return sums.groups_from_rows(selectors.deal_facts(rows, stage_defaults), typical, day)


def actual_won(visible, period: Period, owners: set[int] | None = None) -> Decimal:
    """What was won in the period, as the data says today, at each deal's close-date rate (summed by
    the database per owner, currency and rate: crm/forecast/sums.py)."""
    qs = selectors.in_period(visible, period).filter(status=DealStatus.WON)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    groups = sums.groups_in_sql(qs, {}, period.end)
    table = RateTable({g.currency for g in groups}, until=period.end)
    return sums.Rollup(groups, rates={}, typical={}, today=period.end, table=table).figures()["closed"]


def _error(forecast: Decimal, actual: Decimal) -> Decimal | None:
    return None if actual <= 0 else (forecast - actual) / actual * 100


def _scores(rows: list[dict]) -> list[dict]:
    out = []
    for key, label in METHODS:
        errors = [p["errors"][key] for r in rows for p in r["points"] if p["errors"][key] is not None]
        n = len(errors)
        mape = sum(abs(e) for e in errors) / n if n else None
        bias = sum(errors) / n if n else None
        out.append({"method": key, "label": label, "mape": mape, "bias": bias, "samples": n})
    return out


def _shown(scores: list[dict]) -> list[dict]:
    """Scores rounded to 0.1 % for reading (the ranking used the unrounded ones)."""
    return [{**s, "mape": _rounded(s["mape"]), "bias": _rounded(s["bias"])} for s in scores]


def run(
    user,
    *,
    kind: str = "quarter",
    count: int = DEFAULT_COUNT,
    owners: set[int] | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """The backtest of the last ``count`` periods of ``kind`` for what ``user`` may see; remembered
    until a deal, a stage move, a category or a rate is written (crm/forecast/memo.py)."""
    visible = selectors.visible_deals(user)
    question = (kind, count, sorted(owners) if owners is not None else None, now)
    return memo.remembered("backtest", visible, question, lambda: _run(visible, kind, count, owners, now))


def _run(visible, kind: str, count: int, owners: set[int] | None, now: dt.datetime | None) -> dict:
    now = now or timezone.now()
    past = past_periods(kind, count, timezone.localdate(now))
    instants = sorted({at for p in past for point in POINTS if (at := instant(p, point)) <= now})
    learnt = _learnt_at(visible, instants)
    asks = [(period, at) for period in past for point in POINTS if (at := instant(period, point)) <= now]
    figures = dict(zip(asks, forecasts_as_of(visible, asks, owners, learnt), strict=True))
    rows = []
    for period in past:
        actual = actual_won(visible, period, owners)
        points = []
        for point in POINTS:
            at = instant(period, point)
            if at > now:
                continue
            errors = {key: _error(value, actual) for key, value in figures[period, at].items()}
            points.append(
                {"point": point, "as_of": timezone.localdate(at), "figures": figures[period, at], "errors": errors}
            )
        rows.append({"period": period, "actual": actual, "points": points})
    scores = _scores(rows)
    ranked = [s for s in scores if s["mape"] is not None]
    best = min(ranked, key=lambda s: s["mape"])["method"] if ranked else None  # ties: METHODS order
    return {"currency": organization_currency(), "kind": kind, "periods": rows, "methods": _shown(scores), "best": best}


def _learnt_at(visible, instants: list[dt.datetime]) -> dict[dt.datetime, tuple[dict, dict]]:
    """What the history methods knew at each instant, counted in one pass each (crm/forecast/history.py)."""
    if not instants:
        return {}
    rates = history.win_rates_at(visible, instants)
    typical = history.typical_days_at(visible, instants)
    return {at: (rates[i], typical[i]) for i, at in enumerate(instants)}


CACHE_SECONDS = 3600


def cached_run(user, *, kind: str, count: int = DEFAULT_COUNT) -> dict:
    """``run`` for the forecast page, kept an hour: its periods are past ones, and it is seconds of work
    on a large organization. The key is what the result depends on: the deals the viewer may see (a
    deal's visibility is its owner's scope, so the set of visible owners), the day, the fiscal year
    start and the kind. The amount check (403) runs first, uncached."""
    selectors.visible_deals(user)
    policy = policy_for(user)
    owners = policy.visible_owner_ids()
    scope = (
        "none" if not policy.allows("deal", "view") else "all" if owners is None else ",".join(map(str, sorted(owners)))
    )
    today = timezone.localdate()
    digest = hashlib.sha256(scope.encode()).hexdigest()[:32]
    key = f"forecast-backtest:{kind}:{count}:{today}:{categories.fiscal_year_start()}:{digest}"
    result = cache.get(key)
    if result is None:
        result = run(user, kind=kind, count=count)
        cache.set(key, result, CACHE_SECONDS)
    return result


def scope_owners(*, owner_id: int | None = None, team_id: int | None = None) -> set[int] | None:
    """The owners a backtest narrows to: one user, a team's members and manager, or both (None: all)."""
    owners = None
    if team_id is not None:
        teams = snapshots.team_owners()
        if team_id not in teams:
            raise NotFound(f"No team with id {team_id}.")
        owners = teams[team_id]
    if owner_id is not None:
        owners = {owner_id} if owners is None else owners & {owner_id}
    return owners


def as_json(result: dict) -> dict:
    """The API's shape: figures as lists, periods with their keys and days."""
    out = {k: result[k] for k in ("currency", "kind", "methods", "best")}
    out["periods"] = [
        {
            "period": {
                "key": r["period"].key,
                "kind": r["period"].kind,
                "start": r["period"].start,
                "last_day": r["period"].last_day,
            },
            "actual": r["actual"],
            "points": [
                {
                    "point": p["point"],
                    "as_of": p["as_of"],
                    "forecasts": [
                        {"method": m, "forecast": p["figures"][m], "error_pct": _rounded(p["errors"][m])}
                        for m, _label in METHODS
                    ],
                }
                for p in r["points"]
            ],
        }
        for r in result["periods"]
    ]
    return out


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else round(value, 1)
