"""The order API shapes. Amounts and quantities are decimals (JSON numbers or strings), never floats;
a line's quantity and price may be negative (the schema cannot say "only on a credit line": the
service refuses that with ``lines.<i>.quantity``)."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints, WithJsonSchema

from crm.orders.models import OrderStatus, TaxMode
from crm.records.api.schemas.common import CustomValues, Id, In, Out, Text

WHOLE = 12  # digits before the point: services/lines.py LIMIT
S50 = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)]
S64 = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)]
S100 = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
S500 = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code, e.g. EUR")]
Status = Literal[tuple(OrderStatus.values)]
Mode = Literal[tuple(TaxMode.values)]
Signed = Annotated[
    decimal.Decimal,
    Field(max_digits=WHOLE + 2, decimal_places=2, gt=-(10**WHOLE), lt=10**WHOLE),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "exclusiveMinimum": -(10**WHOLE),
                    "exclusiveMaximum": 10**WHOLE,
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": rf"^-?[0-9]{{1,{WHOLE}}}(\.[0-9]{{1,2}})?$"},
            ]
        }
    ),
]
Rate = Annotated[
    decimal.Decimal,
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^(100(\.00?)?|[0-9]{1,2}(\.[0-9]{1,2})?)$"},
            ]
        }
    ),
]


class OrderLineIn(In):
    product_id: Id | None = None
    description: S500 | None = None
    quantity: Signed = decimal.Decimal(1)
    unit_price: Signed
    discount_percent: Rate = decimal.Decimal(0)
    tax_rate: Rate = decimal.Decimal(0)
    is_credit: bool = Field(False, description="A return or credit line: its quantity or price may be negative.")


Lines = Annotated[list[OrderLineIn], Field(min_length=1, max_length=1000)]


class OrderIn(In):
    company_id: Id | None = None
    contact_id: Id | None = None
    deal_id: Id | None = None
    number: S64 | None = None
    order_date: dt.date | None = None
    currency: Currency | None = None
    status: Status | None = None
    tax_mode: Mode | None = None
    external_source: S50 | None = None
    external_id: S100 | None = None
    notes: Text | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    lines: Lines


class OrderPatch(In):
    company_id: Id | None = None
    contact_id: Id | None = None
    deal_id: Id | None = None
    number: S64 = Field(None)
    order_date: dt.date = Field(None)
    currency: Currency = Field(None)
    status: Status = Field(None)
    tax_mode: Mode = Field(None)
    external_source: S50 = Field(None)
    external_id: S100 = Field(None)
    notes: Text = Field(None)
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    lines: Lines = Field(None, description="Given: replaces every line.")
    version: int | None = None


class OrderLineOut(Schema):
    position: int
    product_id: int | None
    description: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    discount_percent: decimal.Decimal
    discount_amount: decimal.Decimal | None = Field(None, description="An amount off instead of a percent (quotes)")
    tax_rate: decimal.Decimal
    is_credit: bool
    net: decimal.Decimal
    tax: decimal.Decimal
    total: decimal.Decimal


class OrderOut(Out, Schema):
    number: str
    company_id: int | None
    contact_id: int | None
    deal_id: int | None
    order_date: dt.date
    currency: str
    status: str
    tax_mode: str
    external_source: str
    external_id: str
    notes: str
    subtotal: decimal.Decimal
    discount_total: decimal.Decimal
    tax_total: decimal.Decimal
    total: decimal.Decimal
    cancelled_at: dt.datetime | None
    owner_id: int | None
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())
