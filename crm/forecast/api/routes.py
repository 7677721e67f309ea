"""/api/v1/forecast/...: the forecast of a period, its deals, quotas, adjustments and settings.
Each endpoint is one service call or one restricted read (crm/forecast/selectors.py)."""

from __future__ import annotations

from django.utils import timezone
from ninja import Query, Router

from crm.access.policy import require_admin
from crm.api.errors import ErrorOut
from crm.core.errors import NotFound
from crm.forecast import backtest, categories, periods, quota_import, quotas, selectors, snapshots
from crm.forecast.api import schemas as s
from crm.forecast.models import ForecastSettings, Quota
from crm.records.models import Stage

router = Router(tags=["forecast"])


def period_of(key: str | None) -> periods.Period:
    fy = categories.fiscal_year_start()
    return periods.parse(key, fy) if key else periods.containing("quarter", timezone.localdate(), fy)


def _period_out(p: periods.Period) -> dict:
    return {"key": p.key, "kind": p.kind, "start": p.start, "last_day": p.last_day}


@router.get("", response={200: s.ForecastOut, 422: ErrorOut}, summary="The forecast of a period")
def forecast(request, params: Query[s.ForecastPeriodQuery]):
    """Per team and rep, per pipeline, in total (organization's currency, each deal at its date's
    rate) and per currency; a missing rate (or a period that does not exist) is a 422 naming the
    currency and date (the period)."""
    result = selectors.forecast(request.user, period_of(params.period))
    snapshots.install_schedule()
    return {**result, "period": _period_out(result["period"])}


@router.get(
    "/snapshots",
    response={200: s.SnapshotHistoryOut, 422: ErrorOut},
    summary="How a forecast figure moved, week by week",
)
def forecast_snapshots(request, params: Query[s.SnapshotQuery]):
    """The weekly snapshots of one figure of a period, for the total, teams and owners you may see
    (a scope shows only when every one of its deals is one you may see)."""
    period = period_of(params.period)
    result = snapshots.history(request.user, period, params.figure)
    return {**result, "period": _period_out(period), "figure": params.figure}


@router.get(
    "/backtest",
    response={200: s.BacktestOut, 422: ErrorOut},
    summary="How accurate each method has been on past periods",
)
def forecast_backtest(request, params: Query[s.BacktestQuery]):
    """Each method's forecast of each past period at its start and midway, from what was known then
    (the change log and stage history), beside what was won; MAPE and bias per method."""
    owners = backtest.scope_owners(owner_id=params.owner_id, team_id=params.team_id)
    result = backtest.run(request.user, kind=params.kind, count=params.periods, owners=owners)
    return backtest.as_json(result)


@router.get(
    "/deals", response={200: list[s.ForecastDealOut], 422: ErrorOut}, summary="The deals behind a forecast figure"
)
def forecast_deals(request, params: Query[s.ForecastDealsQuery]):
    deals = selectors.drill_down(
        request.user,
        period_of(params.period),
        owner_id=params.owner_id,
        team_id=params.team_id,
        pipeline_id=params.pipeline_id,
        category=params.category,
    )
    return deals[: params.limit]


@router.get("/settings", response=s.ForecastSettingsOut, summary="Forecast settings")
def get_settings(request):
    return {"fiscal_year_start_month": ForecastSettings.current().fiscal_year_start_month}


@router.put("/settings", response=s.ForecastSettingsOut, summary="Set the fiscal year start (admins)")
def put_settings(request, payload: s.ForecastSettingsIn):
    row = categories.settings_update(actor=request.user, fiscal_year_start_month=payload.fiscal_year_start_month)
    return {"fiscal_year_start_month": row.fiscal_year_start_month}


@router.put(
    "/stages/{int:pk}/category", response=s.ForecastCategoryOut, summary="An open stage's default category (admins)"
)
def put_stage_category(request, pk: int, payload: s.ForecastCategoryIn):
    require_admin(request.user, categories.WHAT)
    stage = Stage.objects.filter(pk=pk).first()
    if stage is None:
        raise NotFound(f"No stage with id {pk}.")
    categories.stage_category_set(stage, payload.category, actor=request.user)
    return {"category": categories.default_of(stage)}


@router.put(
    "/deals/{int:pk}/category", response=s.ForecastCategoryOut, summary="Override an open deal's category (owner)"
)
def put_deal_category(request, pk: int, payload: s.ForecastCategoryIn):
    return {"category": categories.deal_category_set(pk, payload.category, actor=request.user)}


def _quota_out(q: Quota) -> dict:
    fy = categories.fiscal_year_start()
    return {
        "id": q.pk,
        "user_id": q.user_id,
        "team_id": q.team_id,
        "period": periods.containing(q.period_kind, q.period_start, fy).key,
        "amount": q.amount,
        "deal_count": q.deal_count,
        "rolls_up": q.rolls_up,
    }


@router.get("/quotas", response=list[s.QuotaOut], summary="The quotas of a period you may see")
def list_quotas(request, params: Query[s.ForecastPeriodQuery]):
    period = period_of(params.period)
    rows = Quota.objects.filter(period_kind=period.kind, period_start=period.start).order_by("team_id", "user_id")
    readable = quotas.quota_readers_ids(request.user)
    if readable is not None:
        teams = quotas.readable_team_ids(request.user)
        rows = rows.filter(user_id__in=readable) | rows.filter(team_id__in=teams)
    return [_quota_out(q) for q in rows]


@router.post("/quotas", response=s.QuotaOut, summary="Set a user's or a team's quota for a period")
def set_quota(request, payload: s.QuotaIn):
    row = quotas.quota_set(
        actor=request.user,
        period=period_of(payload.period),
        user_id=payload.user_id,
        team_id=payload.team_id,
        amount=payload.amount,
        deal_count=payload.deal_count,
        rolls_up=payload.rolls_up,
    )
    return _quota_out(row)


@router.post(
    "/quotas/import", response=s.QuotaImportOut, summary="Quotas from CSV text: preview, or write all or nothing"
)
def import_quotas(request, payload: s.QuotaImportIn):
    rows = quota_import.quota_import(payload.csv, actor=request.user, preview=payload.preview)
    return {"written": not payload.preview, "rows": [{**r, "period": r["period"].key} for r in rows]}


def _adjustment_out(a, period: periods.Period) -> dict:
    return {
        "id": a.pk,
        "rep_id": a.rep_id,
        "period": period.key,
        "amount": a.amount,
        "note": a.note,
        "created_by_id": a.created_by_id,
        "created_at": a.created_at,
    }


@router.get("/adjustments", response=list[s.AdjustmentOut], summary="A rep's adjustments of a period, newest first")
def list_adjustments(request, rep_id: s.Id, period: s.Period | None = None):
    p = period_of(period)
    return [_adjustment_out(a, p) for a in quotas.adjustment_history(request.user, rep_id, p)]


@router.post("/adjustments", response=s.AdjustmentOut, summary="Adjust a rep's forecast for a period (managers)")
def add_adjustment(request, payload: s.AdjustmentIn):
    p = period_of(payload.period)
    row = quotas.adjustment_add(
        actor=request.user, rep_id=payload.rep_id, period=p, amount=payload.amount, note=payload.note
    )
    return _adjustment_out(row, p)
