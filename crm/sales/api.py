"""Sales read endpoints: /api/v1/sales/pipelines/{id}/board, /sales/forecast, /sales/funnel."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Router, Schema

from crm.core.errors import BadRequest, NotFound
from crm.records.models import Pipeline
from crm.sales import selectors

router = Router(tags=["sales"])


class StageRef(Schema):
    id: int
    name: str
    status: str
    probability: int | None = None


class Card(Schema):
    """A deal on the board; a field hidden from the reader's role is null."""

    id: int
    name: str
    amount: Decimal | None
    currency: str | None
    owner_id: int | None
    company_id: int | None
    expected_close_date: dt.date | None
    probability: int | None
    stage_changed_at: dt.datetime | None


class CurrencyTotal(Schema):
    currency: str
    count: int
    amount: Decimal | None = Field(description="Null when the deal amount is hidden from your role.")
    weighted_amount: Decimal | None = Field(description="Null when the amount or probability is hidden from you.")


class RateUsed(Schema):
    currency: str
    rate: Decimal = Field(description="1 unit of the currency = this many units of the organization's currency.")
    rate_date: dt.date


class ConvertedTotal(Schema):
    currency: str = Field(description="The organization's currency.")
    amount: Decimal | None = Field(
        description="All the deals converted at the rate of each one's date (expected close date; closed "
        "deals: the close date). Null when a rate is missing (see `missing_rates`) or the amount or "
        "expected close date is hidden from your role."
    )
    weighted_amount: Decimal | None = Field(description="As `amount`, each deal weighted by its probability.")
    rates: list[RateUsed] = Field(description="The distinct rates applied.")
    missing_rates: list[str] = Field(description='Currencies without a rate for a date: "EUR on 2026-05-01".')


class Column(Schema):
    stage: StageRef
    count: int
    amount: Decimal | None = Field(
        description="The column's total when all its deals are in one currency (0 when it has none); "
        "null when they are in several currencies, which are never added together: read `totals`."
    )
    weighted_amount: Decimal | None = Field(description="As `amount`, each deal weighted by its probability.")
    currency: str | None = Field(description="The currency of `amount`; null when the column is empty or mixed.")
    totals: list[CurrencyTotal] = Field(description="Count, amount and weighted amount per currency, by code.")
    converted: ConvertedTotal = Field(description="The column's total in the organization's currency.")
    cards: list[Card]
    next: str | None = Field(
        None, description="Cursor of the column's next cards: GET /deals?stage=…&sort=-stage_changed_at&cursor=…"
    )


class Board(Schema):
    pipeline_id: int
    columns: list[Column]


class Month(Schema):
    month: str | None
    currency: str
    count: int
    amount: Decimal | None = Field(description="Null when the deal amount is hidden from your role.")
    weighted_amount: Decimal | None = Field(description="Null when the amount or probability is hidden from you.")
    converted: ConvertedTotal = Field(description="The row's amounts in the organization's currency.")


class FunnelStage(Schema):
    stage: StageRef
    reached: int
    share_of_entered: float | None
    to_next: float | None


class PipelineRef(Schema):
    id: int
    name: str


class FunnelPipeline(Schema):
    pipeline: PipelineRef
    entered: int
    stages: list[FunnelStage]


@router.get("/pipelines/{int:pk}/board", response=Board, summary="Pipeline board: per-stage totals and first cards")
def pipeline_board(
    request,
    pk: int,
    cards: int = 20,
    owner: int | None = None,
    team: int | None = None,
    close_from: dt.date | None = None,
    close_to: dt.date | None = None,
):
    if not 0 <= cards <= 100:
        raise BadRequest("cards must be 0 to 100.", fields={"cards": str(cards)})
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise NotFound(f"No pipeline with id {pk}.")
    filters = selectors.BoardFilters(owner_id=owner, team_id=team, close_from=close_from, close_to=close_to)
    return {"pipeline_id": pk, "columns": selectors.board(request.user, pipeline, cards=cards, filters=filters)}


@router.get("/forecast", response=list[Month], summary="Open deals by expected close month, weighted")
def sales_forecast(request):
    return selectors.forecast(request.user)


@router.get("/funnel", response=list[FunnelPipeline], summary="Stage conversion from the stage history")
def sales_funnel(request):
    return selectors.funnel(request.user)
