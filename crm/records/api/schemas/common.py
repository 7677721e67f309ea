"""What the record schemas share: the constrained value types, the base input and output shapes.
Limits mirror the model fields, so an oversized or mistyped value is a 422 before any service runs;
unknown fields are refused."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from crm.core.normalize import has_nul
from crm.records.models import LifecycleStage

S = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
S100 = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
S150 = Annotated[str, StringConstraints(max_length=150, strip_whitespace=True)]
S20 = Annotated[str, StringConstraints(max_length=20, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=100_000)]
Url = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
Email = Annotated[str, StringConstraints(max_length=254, strip_whitespace=True)]
Phone = Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)]
Money = Annotated[decimal.Decimal, Field(max_digits=18, decimal_places=2, ge=0)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # a 64-bit key: larger overflows the database driver
Percent = Annotated[int, Field(ge=0, le=100)]
Lifecycle = Literal[tuple(LifecycleStage.values)]
TagList = Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=100)]
CustomValues = Annotated[dict, Field(max_length=200)]


class In(Schema):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value):
        # PostgreSQL cannot store NUL in text or JSON: a clear 422 here instead of a database error.
        if has_nul(value):
            raise ValueError("Must not contain NUL (\\u0000) characters.")
        return value


class Address(In):
    street: S = None
    city: S100 = None
    region: S100 = None
    postal_code: S20 = None
    country: S100 = None


class Out(Schema):
    id: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    custom_fields: dict


class Tagged(Schema):
    tags: list[str]

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [t.name for t in obj.tags.all()]


class AddressOut(Schema):
    street: str
    city: str
    region: str
    postal_code: str
    country: str
