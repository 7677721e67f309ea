"""The forecast API's schemas: tight, so a schema-valid request is one the services accept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from crm.records.api.schemas.common import Id, Money

PERIOD = r"^([1-9][0-9]{3}-(0[1-9]|1[0-2])|FY[1-9][0-9]{3}(-Q[1-4])?)$"
Period = Annotated[str, StringConstraints(pattern=PERIOD)]
OpenCategory = Literal["pipeline", "best_case", "commit", "omitted"]
Category = Literal["pipeline", "best_case", "commit", "closed", "omitted"]
Note = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\u0000]*\S[^\u0000]*$")]


class ForecastPeriodQuery(Schema):
    period: Period | None = Field(None, description="2026-05, FY2026-Q2 or FY2026; default: this fiscal quarter.")


class ForecastDealsQuery(ForecastPeriodQuery):
    owner_id: Id | None = None
    team_id: Id | None = None
    pipeline_id: Id | None = None
    category: Category | None = None
    limit: int = Field(200, ge=1, le=1000)


class ForecastPeriodOut(Schema):
    key: str
    kind: str
    start: dt.date
    last_day: dt.date


class ForecastFigures(Schema):
    """Amounts in the organization's currency (``per_currency``: in each deal currency)."""

    count: int
    closed: Decimal = Field(description="Won in the period.")
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    omitted: Decimal
    commit_total: Decimal = Field(description="Commit + closed.")
    best_case_total: Decimal = Field(description="Commit + closed + best case.")
    stage: Decimal = Field(description="Weighted by stage probability.")
    history: Decimal = Field(description="Weighted by historical stage-to-won conversion.")
    age: Decimal = Field(description="Stage probability, less for deals older than usual in their stage.")
    predicted: Decimal = Field(
        description="Weighted by the predicted win probability when a model is in use (else by stage probability)."
    )


class AdjustedOut(Schema):
    amount: Decimal
    note: str
    created_at: dt.datetime


class ForecastQuotaFigures(ForecastFigures):
    quota: Decimal | None
    attainment: Decimal = Field(description="Won in the period (the closed column).")
    attainment_pct: Decimal | None
    gap: Decimal | None = Field(description="Quota − attainment.")


class ForecastRepRow(ForecastQuotaFigures):
    id: int | None
    name: str
    adjusted: AdjustedOut | None = Field(description="The manager's latest adjustment for the period.")


class ForecastTeamRow(ForecastQuotaFigures):
    id: int | None
    name: str
    reps: list[ForecastRepRow]


class ForecastPipelineRow(ForecastFigures):
    id: int
    name: str


class ForecastCurrencyRow(ForecastFigures):
    currency: str


class ForecastOut(Schema):
    period: ForecastPeriodOut
    currency: str = Field(description="The organization's currency.")
    total: ForecastFigures
    teams: list[ForecastTeamRow]
    pipelines: list[ForecastPipelineRow]
    per_currency: list[ForecastCurrencyRow]


class ForecastDealOut(Schema):
    id: int
    name: str
    owner_id: int | None
    pipeline_id: int
    stage_id: int
    status: str
    amount: Decimal | None
    currency: str
    expected_close_date: dt.date | None
    closed_at: dt.datetime | None
    probability: int
    category: str


class ForecastSettingsIn(Schema):
    fiscal_year_start_month: int = Field(ge=1, le=12)


class ForecastSettingsOut(ForecastSettingsIn):
    pass


class ForecastCategoryIn(Schema):
    category: OpenCategory | None = Field(description="Null: back to the default.")


class ForecastCategoryOut(Schema):
    category: str


class QuotaIn(Schema):
    period: Period
    user_id: Id | None = None
    team_id: Id | None = None
    amount: Money | None = None
    deal_count: int | None = Field(None, ge=0, le=2**31 - 1)
    rolls_up: bool = False


class QuotaOut(Schema):
    id: int
    user_id: int | None
    team_id: int | None
    period: str
    amount: Decimal | None
    deal_count: int | None
    rolls_up: bool


class QuotaImportIn(Schema):
    csv: Annotated[str, StringConstraints(max_length=1_000_000)]
    preview: bool = True


class QuotaImportRow(Schema):
    line: int
    period: str
    name: str
    user_id: int | None = None
    team_id: int | None = None
    amount: Decimal | None
    deal_count: int | None
    rolls_up: bool
    action: Literal["create", "update"]


class QuotaImportOut(Schema):
    written: bool
    rows: list[QuotaImportRow]


class AdjustmentIn(Schema):
    period: Period
    rep_id: Id
    amount: Money
    note: Note


class AdjustmentOut(Schema):
    id: int
    rep_id: int
    period: str
    amount: Decimal
    note: str
    created_by_id: int | None
    created_at: dt.datetime


Figure = Literal[
    "closed",
    "commit",
    "best_case",
    "pipeline",
    "omitted",
    "commit_total",
    "best_case_total",
    "stage",
    "history",
    "age",
    "predicted",
]
Method = Literal["stage", "history", "age", "commit_total", "best_case_total"]


class SnapshotQuery(ForecastPeriodQuery):
    figure: Figure = Field("stage", description="Which figure's weekly values.")


class SnapshotSeriesOut(Schema):
    scope: Literal["total", "team", "owner"]
    id: int | None = Field(description="The team's or owner's id (null: the total, or no owner).")
    name: str
    values: list[Decimal | None] = Field(description="One per week (null: not taken that week).")


class SnapshotHistoryOut(Schema):
    period: ForecastPeriodOut
    figure: str
    weeks: list[dt.date] = Field(description="The Monday of each week a snapshot was taken, oldest first.")
    series: list[SnapshotSeriesOut]


class BacktestQuery(Schema):
    kind: Literal["month", "quarter", "year"] = "quarter"
    periods: int = Field(8, ge=1, le=24, description="How many past periods (before the current one).")
    owner_id: Id | None = Field(None, description="Only the deals this user owned at each point.")
    team_id: Id | None = Field(None, description="Only the deals the team's members owned at each point.")


class BacktestFigureOut(Schema):
    method: Method
    forecast: Decimal
    error_pct: Decimal | None = Field(description="(forecast − actual) ÷ actual × 100; null when nothing was won.")


class BacktestPointOut(Schema):
    point: Literal["start", "midway"]
    as_of: dt.date = Field(description="The forecast as known at midnight (TIME_ZONE) starting this day.")
    forecasts: list[BacktestFigureOut]


class BacktestPeriodOut(Schema):
    period: ForecastPeriodOut
    actual: Decimal = Field(description="Won in the period (today's data).")
    points: list[BacktestPointOut]


class BacktestMethodOut(Schema):
    method: Method
    label: str
    mape: Decimal | None = Field(description="Mean absolute percentage error over the points measured.")
    bias: Decimal | None = Field(description="Mean signed percentage error: positive forecasts too much.")
    samples: int


class BacktestOut(Schema):
    currency: str
    kind: str
    periods: list[BacktestPeriodOut]
    methods: list[BacktestMethodOut]
    best: Method | None = Field(description="The method with the lowest MAPE (null: nothing to measure).")
