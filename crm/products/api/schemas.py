"""The product and price-book API shapes. Limits mirror the models (a 422 before any service runs);
money and quantities are decimals (JSON numbers or strings), never floats in the database."""

import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints, WithJsonSchema

from crm.products.models import TaxCategory
from crm.records.api.schemas.common import CustomValues, Id, In, Money, Out, Text

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
S50 = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)]
S100 = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code, e.g. EUR")]
Quantity = Annotated[
    decimal.Decimal,
    Field(ge=1, max_digits=12, decimal_places=2),
    WithJsonSchema(  # the document says what the field takes: 1 or more, two decimal places at most
        {
            "anyOf": [
                {"type": "number", "minimum": 1, "exclusiveMaximum": 10**10, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^[1-9][0-9]{0,9}(\.[0-9]{1,2})?$"},
            ]
        }
    ),
]
Tax = Literal[tuple(TaxCategory.values)]


class ProductIn(In):
    sku: Sku
    name: Name
    description: Text | None = None
    unit: S50 | None = None
    active: bool | None = None
    category: S100 | None = None
    tax_category: Tax | None = None
    cost: Money | None = None
    cost_currency: Currency | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None


class ProductPatch(In):
    sku: Sku | None = None
    name: Name | None = None
    description: Text | None = None
    unit: S50 | None = None
    active: bool | None = None
    category: S100 | None = None
    tax_category: Tax | None = None
    cost: Money | None = None
    cost_currency: Currency | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    version: int | None = None


class ProductOut(Out, Schema):
    sku: str
    name: str
    description: str
    unit: str
    active: bool
    category: str
    tax_category: str
    cost: decimal.Decimal | None
    cost_currency: str
    owner_id: int | None


class PriceBookIn(In):
    name: Name
    description: Text | None = None
    active: bool | None = None
    is_standard: bool | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None


class PriceBookPatch(In):
    name: Name | None = None
    description: Text | None = None
    active: bool | None = None
    is_standard: bool | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    version: int | None = None


class PriceBookOut(Out, Schema):
    name: str
    description: str
    active: bool
    is_standard: bool
    owner_id: int | None


class EntryIn(In):
    product_id: Id
    currency: Currency
    unit_price: Money
    min_quantity: Quantity = decimal.Decimal(1)


class EntriesIn(In):
    entries: list[EntryIn] = Field(max_length=1000)
    version: int | None = None


class EntryOut(Schema):
    id: int
    product_id: int
    sku: str
    product_name: str
    currency: str
    unit_price: decimal.Decimal
    min_quantity: decimal.Decimal

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name


class EntriesOut(Schema):
    price_book_id: int
    version: int
    entries: list[EntryOut]


class PriceOut(Schema):
    product_id: int
    price_book_id: int
    currency: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    min_quantity: decimal.Decimal
    entry_id: int
