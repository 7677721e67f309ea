"""Companies and contacts: request and response shapes."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from crm.records.api.schemas.common import (
    S100,
    S150,
    Address,
    AddressOut,
    CustomValues,
    Email,
    Id,
    In,
    Lifecycle,
    Money,
    Out,
    Phone,
    S,
    Tagged,
    TagList,
    Url,
)
from crm.records.models.companies import CompanySize

# --- companies ------------------------------------------------------------------------------


class CompanyFields(Address):
    domain: S | None = None
    domains: Annotated[list[S], Field(max_length=20)] | None = None
    industry: S100 | None = None
    size: Literal[tuple(CompanySize.values)] | Literal[""] | None = None
    annual_revenue: Money | None = None
    phone: Phone | None = None
    website: Url | None = None
    parent_id: Id | None = None
    owner_id: Id | None = None
    lifecycle_stage: Lifecycle | Literal[""] | None = None
    tags: TagList | None = None
    custom_fields: CustomValues | None = None


class CompanyIn(CompanyFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


class CompanyPatch(CompanyFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)] = None
    version: int | None = None


class CompanyOut(Out, Tagged, AddressOut):
    name: str
    domain: str
    domains: list[str]
    industry: str
    size: str
    annual_revenue: decimal.Decimal | None
    phone: str
    website: str
    parent_id: int | None
    owner_id: int | None
    lifecycle_stage: str

    @staticmethod
    def resolve_domains(obj) -> list[str]:
        return [d.domain for d in obj.domains.all()]


# --- contacts -------------------------------------------------------------------------------


class EmailItem(In):
    email: Email
    kind: Literal["work", "home", "other"] = "work"
    primary: bool = False


class PhoneItem(In):
    number: Phone
    kind: Literal["work", "mobile", "home", "other"] = "work"
    primary: bool = False


class ContactFields(Address):
    """A contact needs a first or last name, an email or a phone (422 on first_name otherwise)."""

    first_name: S100 | None = None
    last_name: S100 | None = None
    title: S150 | None = None
    email: Email | None = None
    emails: Annotated[list[EmailItem], Field(max_length=20)] | None = None
    phone: Phone | None = None
    phones: Annotated[list[PhoneItem], Field(max_length=20)] | None = None
    company_id: Id | None = None
    owner_id: Id | None = None
    lifecycle_stage: Lifecycle | Literal[""] | None = None
    source: S100 | None = None
    email_opt_in: bool = None  # omitted keeps it; null is not a consent
    email_opt_in_at: dt.datetime | None = None
    email_opt_in_source: S100 | None = None
    tags: TagList | None = None
    custom_fields: CustomValues | None = None


class ContactIn(ContactFields):
    pass


class ContactPatch(ContactFields):
    version: int | None = None


class EmailOut(Schema):
    email: str
    kind: str
    primary: bool = Field(alias="is_primary")


class PhoneOut(Schema):
    number: str
    kind: str
    primary: bool = Field(alias="is_primary")


class PastCompanyOut(Schema):
    company_id: int
    title: str
    ended_at: dt.datetime


class ContactOut(Out, Tagged, AddressOut):
    first_name: str
    last_name: str
    name: str
    title: str
    email: str
    phone: str
    emails: list[EmailOut]
    phones: list[PhoneOut]
    company_id: int | None
    owner_id: int | None
    lifecycle_stage: str
    source: str
    email_opt_in: bool
    email_opt_in_at: dt.datetime | None
    email_opt_in_source: str
    past_companies: list[PastCompanyOut]

    @staticmethod
    def resolve_past_companies(obj):
        return list(obj.past_companies.all())

    @staticmethod
    def resolve_emails(obj):
        return list(obj.emails.all())

    @staticmethod
    def resolve_phones(obj):
        return list(obj.phones.all())
