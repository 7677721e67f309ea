"""Leads (and their conversion) and deals (and their stage moves): request and response shapes."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from crm.records.api.schemas.common import (
    S100,
    S150,
    CustomValues,
    Email,
    Id,
    In,
    Money,
    Out,
    Percent,
    Phone,
    S,
    Tagged,
    TagList,
    Url,
)
from crm.records.models import LeadStatus

# --- leads ----------------------------------------------------------------------------------


class LeadFields(In):
    """A lead needs a name, a company, an email or a phone (422 on last_name otherwise); a disqualified
    lead needs a disqualified_reason."""

    first_name: S100 | None = None
    last_name: S100 | None = None
    company_name: S | None = None
    title: S150 | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Url | None = None
    status: Literal[tuple(LeadStatus.values)] = None  # omitted keeps it (a new lead is new); null is none
    disqualified_reason: S | None = None
    source: S100 | None = None
    score: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] | None = None
    owner_id: Id | None = None
    tags: TagList | None = None
    custom_fields: CustomValues | None = None


class LeadIn(LeadFields):
    pass


class LeadPatch(LeadFields):
    version: int | None = None


class LeadOut(Out, Tagged):
    first_name: str
    last_name: str
    name: str
    company_name: str
    title: str
    email: str
    phone: str
    website: str
    status: str
    disqualified_reason: str
    source: str
    score: int | None
    owner_id: int | None
    converted_at: dt.datetime | None
    converted_contact_id: int | None
    converted_company_id: int | None
    converted_deal_id: int | None


class DealIn(In):
    """The deal to open when converting a lead."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
    amount: Money | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    expected_close_date: dt.date | None = None


class ConvertIn(In):
    contact_id: Id | None = None
    company_id: Id | None = None
    create_company: bool = True
    deal: DealIn | None = None


class ConvertOut(Schema):
    lead_id: int
    contact_id: int
    company_id: int | None
    deal_id: int | None


# --- deals ----------------------------------------------------------------------------------


class DealContactItem(In):
    contact_id: Id
    role: Literal["decision_maker", "champion", "influencer", "economic_buyer", "technical_buyer", "user", "other"] = (
        "other"
    )


class DealFields(In):
    """The status (open, won, lost) follows the stage: a stage_id in a lost stage needs a lost_reason;
    stage_id must be in pipeline_id when both are given."""

    amount: Money | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    company_id: Id | None = None
    contacts: Annotated[list[DealContactItem], Field(max_length=50)] | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    expected_close_date: dt.date | None = None
    probability: Percent | None = None
    owner_id: Id | None = None
    lost_reason: S | None = None
    tags: TagList | None = None
    custom_fields: CustomValues | None = None


class DealCreate(DealFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


class DealPatch(DealFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)] = None
    version: int | None = None


class DealContactOut(Schema):
    contact_id: int
    role: str


class DealOut(Out, Tagged):
    name: str
    amount: decimal.Decimal | None
    currency: str
    company_id: int | None
    contacts: list[DealContactOut]
    pipeline_id: int
    stage_id: int
    status: str
    expected_close_date: dt.date | None
    probability: int
    probability_overridden: bool
    owner_id: int | None
    lost_reason: str
    closed_at: dt.datetime | None
    stage_changed_at: dt.datetime

    @staticmethod
    def resolve_contacts(obj):
        return list(obj.deal_contacts.all())


class MoveIn(In):
    stage_id: Id
    lost_reason: S | None = None
    version: int | None = None


class StageChangeOut(Schema):
    from_stage_id: int | None
    to_stage_id: int
    changed_at: dt.datetime
    changed_by_id: int | None
