"""The commissions API's schemas: tight, so a schema-valid request is one the services accept (the
refusals left are rules against stored rows: a name taken, an overlap, splits that do not sum to 100)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints, WithJsonSchema

from crm.forecast.api.schemas import Period
from crm.records.api.schemas.common import Id, Money


def _decimal(low: str, high: str, places: int, pattern: str, *, exclusive_low: bool = False):
    def plain(text: str):  # JSON Schema numbers (a Decimal would be written as a string)
        return int(text) if "." not in text else float(text)

    number = {"type": "number", "maximum": plain(high), "multipleOf": 10**-places}
    number["exclusiveMinimum" if exclusive_low else "minimum"] = plain(low)
    limits = {"gt" if exclusive_low else "ge": Decimal(low), "le": Decimal(high)}
    return Annotated[
        Decimal,
        Field(max_digits=len(high.split(".")[0]) + places, decimal_places=places, **limits),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


# A percentage with up to four decimals (5, 7.5, 12.3456), 0 to 100.
Rate = _decimal("0", "100", 4, r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$")
# A tier's threshold: % of quota, two decimals (150 = one and a half times the quota).
Threshold = _decimal("0", "99999.99", 2, r"^[0-9]{1,5}(\.[0-9]{1,2})?$")
# A rep's share of a deal: above 0, at most 100, two decimals.
Share = _decimal(
    "0", "100", 2, r"^(100(\.0{1,2})?|0*[1-9][0-9]?(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$", exclusive_low=True
)
# A manual line: positive or negative, not zero.
Signed = Annotated[
    Decimal,
    Field(max_digits=17, decimal_places=2, ge=Decimal("-999999999999999.99"), le=Decimal("999999999999999.99")),
    WithJsonSchema({"type": "string", "pattern": r"^-?(0*[1-9][0-9]{0,14}(\.[0-9]{1,2})?|0*\.(0[1-9]|[1-9][0-9]?))$"}),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\u0000]*\S[^\u0000]*$")]
Category = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\u0000]*\S[^\u0000]*$")]
Note = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\u0000]*\S[^\u0000]*$")]
Basis = Literal["deals", "orders"]


class PlanTierIO(Schema):
    threshold: Threshold = Field(description="% of quota where the tier starts.")
    rate: Rate


class CategoryRateIO(Schema):
    category: Category = Field(description="A product category (Product.category), any case.")
    rate: Rate


class CommissionPlanIn(Schema):
    name: Name
    basis: Basis = "deals"
    base_rate: Rate
    cap: Money | None = Field(None, description="Per period, in the organization's currency; none: no cap.")
    clawback_days: int = Field(90, ge=0, le=3650)
    tiers: list[PlanTierIO] = Field([], max_length=20)
    category_rates: list[CategoryRateIO] = Field([], max_length=100)


class CommissionPlanPatch(Schema):
    name: Name | None = None
    basis: Basis | None = None
    base_rate: Rate | None = None
    cap: Money | None = None
    clawback_days: int | None = Field(None, ge=0, le=3650)
    tiers: list[PlanTierIO] | None = Field(None, max_length=20)
    category_rates: list[CategoryRateIO] | None = Field(None, max_length=100)


class CommissionPlanOut(Schema):
    id: int
    name: str
    basis: str
    base_rate: Decimal
    cap: Decimal | None
    clawback_days: int
    tiers: list[PlanTierIO]
    category_rates: list[CategoryRateIO]


class PlanAssignmentIn(Schema):
    rep_id: Id
    plan_id: Id
    period: Period


class PlanAssignmentOut(Schema):
    id: int
    rep_id: int
    plan_id: int
    period: str
    period_start: dt.date
    period_end: dt.date = Field(description="The first day after the period.")


class AssignmentQuery(Schema):
    rep_id: Id | None = None


class DealSplitIO(Schema):
    user_id: Id
    percent: Share


class DealSplitsIn(Schema):
    splits: list[DealSplitIO] = Field(max_length=50, description="Summing to 100; [] gives the owner 100 %.")


class StatementQuery(Schema):
    period: Period | None = None
    rep_id: Id | None = None


class StatementLineOut(Schema):
    position: int
    kind: str
    source_type: str
    source_id: int | None
    description: str
    date: dt.date | None
    original_amount: Decimal | None
    original_currency: str
    base_amount: Decimal | None
    split_percent: Decimal | None
    rule: str
    commission: Decimal


class StatementSummaryOut(Schema):
    id: int
    rep_id: int
    rep_name: str
    period: str
    version: int
    plan_name: str
    currency: str
    quota: Decimal | None
    credited: Decimal
    attainment: Decimal | None
    earned: Decimal
    clawbacks: Decimal
    adjustments: Decimal
    before_cap: Decimal
    total: Decimal
    cap_note: str
    created_at: dt.datetime


class StatementVersionOut(Schema):
    id: int
    version: int
    total: Decimal
    created_at: dt.datetime


class StatementOut(StatementSummaryOut):
    lines: list[StatementLineOut]
    versions: list[StatementVersionOut]


class StatementCalculateIn(Schema):
    rep_id: Id
    period: Period


class StatementCalculatedOut(Schema):
    created: bool = Field(description="False: nothing changed, the latest version stands.")
    statement: StatementOut


class CommissionAdjustmentIn(Schema):
    rep_id: Id
    period: Period
    amount: Signed = Field(description="Positive or negative, never 0, in the organization's currency.")
    note: Note


class ExportQuery(Schema):
    format: Literal["csv", "xlsx", "pdf"] = "csv"
