"""/api/v1/analytics/sales (figures of a period beside the previous one), /sales/categories,
/sales/activities and /sales/trend (crm/sales/breakdowns.py), and /analytics/sales/deals (the deals
behind a figure). All read what the caller may view, through crm/sales/analytics.py's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from crm.api.errors import ErrorOut
from crm.forecast import categories, periods
from crm.forecast.api.schemas import Period
from crm.money.currencies import organization_currency
from crm.records.api.schemas.common import Id
from crm.sales import analytics, breakdowns

router = Router(tags=["analytics"])

Source = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\u0000]*$")]


class AnalyticsQuery(Schema):
    period: Period | None = Field(None, description="2026-05, FY2026-Q2 or FY2026; default: this fiscal quarter.")
    owner_id: Id | None = None
    team_id: Id | None = None
    pipeline_id: Id | None = None
    source: Source | None = Field(None, description="The source of the lead the deal was converted from.")


class AnalyticsDealsQuery(AnalyticsQuery):
    figure: Literal["won", "lost", "open", "new", "stuck", "category"]
    lost_reason: Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\u0000]*$")] | None = None
    category: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\u0000]*$")] | None = Field(
        None, description='With figure=category: the won deals with a share in it ("" uncategorized).'
    )
    limit: int = Field(200, ge=1, le=1000)


class AnalyticsPeriodOut(Schema):
    key: str
    kind: str
    start: dt.date
    last_day: dt.date


class AnalyticsLostReasonOut(Schema):
    reason: str
    count: int


class AnalyticsStageOut(Schema):
    stage_id: int
    stage: str
    pipeline_id: int
    pipeline: str
    reached: int = Field(description="Deals closed in the period that reached this stage.")
    advanced: int | None = Field(description="Of those, the ones that went on to a later (not lost) stage.")
    conversion: Decimal | None = Field(description="advanced ÷ reached.")
    stays: int = Field(description="Completed stays in the stage.")
    avg_days: Decimal | None
    median_days: Decimal | None


class AnalyticsFiguresOut(Schema):
    """Amounts in the organization's currency, each deal converted at the rate of its date."""

    won_count: int
    lost_count: int
    win_rate: Decimal | None = Field(description="won ÷ (won + lost), 0..1.")
    won_amount: Decimal
    avg_won_amount: Decimal | None
    cycle_days: Decimal | None = Field(description="Mean days from creation to close of the won deals.")
    open_count: int = Field(description="Open deals expected to close in the period.")
    open_amount: Decimal
    velocity_per_day: Decimal | None = Field(description="open count × win rate × average won size ÷ cycle days.")
    quota: Decimal | None
    remaining_quota: Decimal | None
    coverage: Decimal | None = Field(description="open amount ÷ remaining quota.")
    new_count: int = Field(description="Deals created in the period.")
    new_amount: Decimal
    lost_reasons: list[AnalyticsLostReasonOut]
    stages: list[AnalyticsStageOut]


class AnalyticsChangeOut(Schema):
    """Current − previous, per figure (None when either is unknown)."""

    won_count: int | None
    lost_count: int | None
    win_rate: Decimal | None
    won_amount: Decimal | None
    avg_won_amount: Decimal | None
    cycle_days: Decimal | None
    open_count: int | None
    open_amount: Decimal | None
    velocity_per_day: Decimal | None
    coverage: Decimal | None
    new_count: int | None
    new_amount: Decimal | None


class SalesAnalyticsOut(Schema):
    period: AnalyticsPeriodOut
    previous_period: AnalyticsPeriodOut
    currency: str
    current: AnalyticsFiguresOut
    previous: AnalyticsFiguresOut
    change: AnalyticsChangeOut
    stuck_count: int = Field(description="Open deals in their stage longer than usual (today).")
    stuck_ids: list[int]


class AnalyticsDealOut(Schema):
    id: int
    name: str
    owner_id: int | None
    stage_id: int
    status: str
    amount: Decimal | None
    currency: str
    created_at: dt.datetime
    expected_close_date: dt.date | None
    closed_at: dt.datetime | None
    lost_reason: str


class AnalyticsCategoryOut(Schema):
    category: str = Field(description='A product category; "" for what no category covers.')
    deals: int = Field(description="Won deals of the period with a share in the category.")
    amount: Decimal = Field(description="Their won amount shared by the net of their lines.")
    previous_deals: int
    previous_amount: Decimal
    change_amount: Decimal


class AnalyticsCategoriesOut(Schema):
    period: AnalyticsPeriodOut
    previous_period: AnalyticsPeriodOut
    currency: str
    categories: list[AnalyticsCategoryOut]


class AnalyticsRepActivityOut(Schema):
    owner_id: int | None
    owner: str
    kinds: dict[str, int] = Field(description="Activities of the period per kind (call, meeting, email, note).")
    total: int
    previous_total: int
    change: int


class AnalyticsActivitiesOut(Schema):
    period: AnalyticsPeriodOut
    previous_period: AnalyticsPeriodOut
    reps: list[AnalyticsRepActivityOut]


class AnalyticsMonthOut(Schema):
    month: str = Field(description="2026-05")
    won_count: int
    won_amount: Decimal
    previous_year_count: int
    previous_year_amount: Decimal


class AnalyticsTrendOut(Schema):
    currency: str
    months: list[AnalyticsMonthOut] = Field(description="The 12 months ending with the period's last month.")


def periods_of(key: str | None) -> tuple[periods.Period, periods.Period]:
    """The period asked for (default: this fiscal quarter) and the one before it."""
    fy = categories.fiscal_year_start()
    period = periods.parse(key, fy) if key else periods.containing("quarter", timezone.localdate(), fy)
    return period, periods.shifted(period, -1, fy)


def filters_of(params: AnalyticsQuery) -> analytics.Filters:
    return analytics.Filters(
        owner_id=params.owner_id, team_id=params.team_id, pipeline_id=params.pipeline_id, source=params.source
    )


def _period_out(p: periods.Period) -> dict:
    return {"key": p.key, "kind": p.kind, "start": p.start, "last_day": p.last_day}


@router.get("/sales", response={200: SalesAnalyticsOut, 422: ErrorOut}, summary="Sales analytics of a period")
def sales_analytics(request, params: Query[AnalyticsQuery]):
    """Win rate, deal size, cycle, stage conversion and time in stage, velocity, coverage, lost
    reasons and new pipeline of the period beside the previous period, over the deals you may see."""
    period, previous = periods_of(params.period)
    result = analytics.sales(request.user, period, previous, filters_of(params))
    return {
        **result,
        "period": _period_out(period),
        "previous_period": _period_out(previous),
        "currency": organization_currency(),
    }


@router.get(
    "/sales/deals", response={200: list[AnalyticsDealOut], 422: ErrorOut}, summary="The deals behind a sales figure"
)
def sales_analytics_deals(request, params: Query[AnalyticsDealsQuery]):
    period, _ = periods_of(params.period)
    filters = filters_of(params)
    deals = analytics.scope(request.user, filters)
    if params.figure == "category":
        ids = breakdowns.category_deal_ids(request.user, period, filters, params.category or "")
        return list(deals.filter(pk__in=ids).order_by("id")[: params.limit])
    behind = analytics.deals_behind(deals, period, params.figure, lost_reason=params.lost_reason)
    return list(behind.order_by("id")[: params.limit])


@router.get(
    "/sales/categories",
    response={200: AnalyticsCategoriesOut, 422: ErrorOut},
    summary="Won deals and amount per product category",
)
def sales_analytics_categories(request, params: Query[AnalyticsQuery]):
    """Per product category (from the won deals' quote or order lines), beside the previous period."""
    period, previous = periods_of(params.period)
    rows = breakdowns.by_category(request.user, period, previous, filters_of(params))
    return {
        "period": _period_out(period),
        "previous_period": _period_out(previous),
        "currency": organization_currency(),
        "categories": rows,
    }


@router.get(
    "/sales/activities", response={200: AnalyticsActivitiesOut, 422: ErrorOut}, summary="Activity counts per rep"
)
def sales_analytics_activities(request, params: Query[AnalyticsQuery]):
    """Activities you may see that occurred in the period, per owner and kind, beside the previous period."""
    period, previous = periods_of(params.period)
    rows = breakdowns.activity_counts(request.user, period, previous, filters_of(params))
    return {"period": _period_out(period), "previous_period": _period_out(previous), "reps": rows}


@router.get("/sales/trend", response={200: AnalyticsTrendOut, 422: ErrorOut}, summary="Won amount per month")
def sales_analytics_trend(request, params: Query[AnalyticsQuery]):
    """Won count and amount per month over the 12 months ending with the period, each beside the same
    month a year earlier, in the organization's currency."""
    period, _ = periods_of(params.period)
    months = breakdowns.revenue_trend(request.user, period, filters_of(params))
    return {"currency": organization_currency(), "months": months}
