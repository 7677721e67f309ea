"""Quote API shapes. Amounts, quantities and rates are decimals with at most 4 places (a JSON number or
a string), never floats. Negative quantities and prices are allowed by the schema because a return or
credit line (``is_credit``) takes them; the services refuse them on any other line."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints, WithJsonSchema

from crm.quotes.models import QuoteStatus, TaxMode
from crm.records.api.schemas.common import CustomValues, Id, In, Out

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code, e.g. EUR")]
Title = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
Terms = Annotated[str, StringConstraints(max_length=10000)]
Description = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


def _decimal(whole: int, *, signed: bool, high: int | None = None):
    low = -(10**whole) if signed else 0
    top = high if high is not None else 10**whole
    number = {"type": "number", "multipleOf": 0.0001}
    number |= {"exclusiveMinimum": low} if signed else {"minimum": 0}
    number |= {"maximum": top} if high is not None else {"exclusiveMaximum": top}
    digits = "100(\\.0{1,4})?|[0-9]{1,2}" if high == 100 else f"[0-9]{{1,{whole}}}"
    pattern = (
        f"^{'-?' if signed else ''}(?:{digits})(\\.[0-9]{{1,4}})?$"
        if high != 100
        else f"^(?:{digits}(\\.[0-9]{{1,4}})?)$"
    )
    bounds = {"gt": low} if signed else {"ge": 0}
    bounds |= {"le": top} if high is not None else {"lt": top}
    return Annotated[
        decimal.Decimal,
        Field(max_digits=whole + 4, decimal_places=4, **bounds),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


Quantity = _decimal(10, signed=True)
Price = _decimal(12, signed=True)
Amount = _decimal(12, signed=False)
Rate = _decimal(3, signed=False, high=100)


class QuoteLineIn(In):
    product_id: Id | None = None
    description: Description | None = None
    quantity: Quantity | None = None
    unit_price: Price | None = Field(None, description="Leave out to take the price book's price for the product")
    discount_percent: Rate | None = None
    discount_amount: Amount | None = None
    tax_rate: Rate | None = None
    is_credit: bool = False


class QuoteLinePatch(In):
    product_id: Id = Field(None)
    description: Description = Field(None)
    quantity: Quantity = Field(None)
    unit_price: Price = Field(None)
    discount_percent: Rate | None = None
    discount_amount: Amount | None = None
    tax_rate: Rate = Field(None)
    is_credit: bool = Field(None)
    version: int | None = Field(None, description="The quote's version (or If-Match)")


class QuoteIn(In):
    deal_id: Id
    title: Title | None = None
    contact_id: Id | None = None
    price_book_id: Id | None = None
    currency: Currency | None = None
    tax_mode: Literal[tuple(TaxMode.values)] | None = None
    order_discount_percent: Rate | None = None
    order_discount_amount: Amount | None = None
    shipping: Amount | None = None
    shipping_tax_rate: Rate | None = None
    terms: Terms | None = None
    valid_until: dt.date | None = None
    owner_id: Id | None = None
    lines: list[QuoteLineIn] | None = Field(None, max_length=500)
    custom_fields: CustomValues | None = None


class QuotePatch(In):
    deal_id: Id = Field(None)
    title: Title = Field(None)
    contact_id: Id | None = None
    price_book_id: Id | None = None
    currency: Currency = Field(None)
    tax_mode: Literal[tuple(TaxMode.values)] = Field(None)
    order_discount_percent: Rate | None = None
    order_discount_amount: Amount | None = None
    shipping: Amount = Field(None)
    shipping_tax_rate: Rate = Field(None)
    terms: Terms = Field(None)
    valid_until: dt.date | None = None
    owner_id: Id = Field(None)
    lines: list[QuoteLineIn] = Field(None, max_length=500, description="Replaces every line")
    custom_fields: CustomValues = Field(None)
    version: int | None = None


class QuoteOut(Out, Schema):
    number: str
    title: str
    status: Literal[tuple(QuoteStatus.values)]
    deal_id: int | None
    company_id: int | None
    contact_id: int | None
    price_book_id: int | None
    currency: str
    current_version: int
    valid_until: dt.date | None
    total: decimal.Decimal
    owner_id: int | None
    sent_at: dt.datetime | None
    answered_at: dt.datetime | None
    accepted_by_name: str
    decline_reason: str
    acceptance_path: str | None = Field(None, description="The customer's acceptance page (no login) once sent")

    @staticmethod
    def resolve_acceptance_path(obj) -> str | None:
        from crm.quotes.links import path_for

        return path_for(obj)


class QuoteLineOut(Schema):
    id: int
    position: int
    product_id: int | None
    description: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    discount_percent: decimal.Decimal | None
    discount_amount: decimal.Decimal | None
    tax_rate: decimal.Decimal
    is_credit: bool
    net: decimal.Decimal
    tax: decimal.Decimal
    total: decimal.Decimal


class VersionOut(Schema):
    number: int
    tax_mode: str
    order_discount_percent: decimal.Decimal | None
    order_discount_amount: decimal.Decimal | None
    shipping: decimal.Decimal
    shipping_tax_rate: decimal.Decimal
    terms: str
    valid_until: dt.date | None
    subtotal: decimal.Decimal
    discount_total: decimal.Decimal
    tax_total: decimal.Decimal
    total: decimal.Decimal
    sent_at: dt.datetime | None
    has_pdf: bool
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_has_pdf(obj) -> bool:
        return bool(obj.pdf)

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class LinesOut(Schema):
    quote_id: int
    version: int = Field(description="The quote's version, for the next write")
    quote_version: int = Field(description="The number of the quote version the lines belong to")
    total: decimal.Decimal
    lines: list[QuoteLineOut]


class AcceptIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=r"\S")]
    version: int | None = None


class DeclineIn(In):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True, pattern=r"\S")]
    version: int | None = None
