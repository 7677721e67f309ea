"""What the record schemas share: the constrained value types, the base input and output shapes.
Limits mirror the model fields, so an oversized or mistyped value is a 422 before any service runs;
unknown fields are refused."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from crm.api.patterns import NO_NUL, WEB_URL
from crm.core.normalize import has_nul
from crm.customization import secrets
from crm.records.models import LifecycleStage

S = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
S100 = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
S150 = Annotated[str, StringConstraints(max_length=150, strip_whitespace=True)]
S20 = Annotated[str, StringConstraints(max_length=20, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=100_000)]
Url = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True, pattern=WEB_URL)]
# Emails and phone numbers are checked by email-validator and libphonenumber, whose rules no pattern holds.
Email = Annotated[
    str,
    StringConstraints(max_length=254, strip_whitespace=True),
    Field(description="An email address (checked as email-validator does, without DNS). Empty clears it."),
]
Phone = Annotated[
    str,
    StringConstraints(max_length=40, strip_whitespace=True),
    Field(description="A possible phone number: E.164 (+15551234567), or national in the default region."),
]
# An amount as the models' DecimalField(max_digits=18, decimal_places=2) holds it, a JSON number or a string.
MONEY_DIGITS, MONEY_PLACES = 18, 2
_WHOLE = MONEY_DIGITS - MONEY_PLACES
Money = Annotated[
    decimal.Decimal,
    Field(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**_WHOLE, "multipleOf": 10**-MONEY_PLACES},
                {"type": "string", "pattern": rf"^[0-9]{{1,{_WHOLE}}}(\.[0-9]{{1,{MONEY_PLACES}}})?$"},
            ]
        }
    ),
]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # a 64-bit key: larger overflows the database driver
Percent = Annotated[int, Field(ge=0, le=100)]
Lifecycle = Literal[tuple(LifecycleStage.values)]
TagList = Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=100)]
CustomValues = Annotated[dict, Field(max_length=200)]


def _declare_no_nul(schema: dict, *_) -> None:
    """Every text a body takes says it holds no NUL (what ``_refuse_nul`` checks), unless its own
    pattern or enum already rules it out."""
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        schema["pattern"] = NO_NUL
    for value in schema.values():
        for sub in value if isinstance(value, list) else [value]:
            if isinstance(sub, dict):
                _declare_no_nul(sub)


class In(Schema):
    # python-re: the URL pattern looks ahead (the host's length), which pydantic's default engine cannot.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re", json_schema_extra=_declare_no_nul)

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

    @staticmethod
    def resolve_custom_fields(obj) -> dict:
        return secrets.reveal(obj.custom_fields)  # encrypted values decrypted for output (and exports)


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
