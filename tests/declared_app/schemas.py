import decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from crm.records.api.schemas.common import CustomValues, Id, In, Out

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Serial = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)]
Price = Annotated[decimal.Decimal, Field(max_digits=12, decimal_places=2, ge=0)]


class GadgetIn(In):
    name: Name
    serial: Serial | None = None
    price: Price | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None


class GadgetPatch(In):
    name: Name | None = None
    serial: Serial | None = None
    price: Price | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    version: int | None = None


class GadgetOut(Out, Schema):
    name: str
    serial: str
    price: decimal.Decimal | None
    owner_id: int | None
