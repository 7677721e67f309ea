"""Request and response shapes of the record endpoints. Limits mirror the model fields, so an
oversized or mistyped value is a 422 before any service runs; unknown fields are refused."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, field_validator

from crm.core.normalize import has_nul
from crm.records.models import ActivityKind, LeadStatus, LifecycleStage, TaskPriority, TaskStatus
from crm.records.models.companies import CompanySize

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
    email_opt_in: bool | None = None
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


# --- leads ----------------------------------------------------------------------------------


class LeadFields(In):
    first_name: S100 | None = None
    last_name: S100 | None = None
    company_name: S | None = None
    title: S150 | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Url | None = None
    status: Literal[tuple(LeadStatus.values)] | None = None
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


# --- activities and tasks -------------------------------------------------------------------


class LinkIn(In):
    type: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    id: Id


class Links(In):
    """Either ``links`` (every record the row is about, replacing all) or the per-type shorthands
    (each replacing the links of its type)."""

    links: Annotated[list[LinkIn], Field(max_length=100)] | None = None
    company_id: Id | None = None
    contact_id: Id | None = None
    lead_id: Id | None = None
    deal_id: Id | None = None


class ActivityFields(Links):
    subject: S | None = None
    body: Text | None = None
    occurred_at: dt.datetime | None = None
    direction: Literal["inbound", "outbound", ""] | None = None
    outcome: Annotated[str, StringConstraints(max_length=50)] | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=100_000)] | None = None
    owner_id: Id | None = None
    participant_ids: Annotated[list[Id], Field(max_length=100)] | None = None
    custom_fields: CustomValues | None = None


class ActivityIn(ActivityFields):
    kind: Literal[tuple(ActivityKind.values)]


class ActivityPatch(ActivityFields):
    kind: Literal[tuple(ActivityKind.values)] = None
    version: int | None = None


class LinkOut(Schema):
    type: str
    id: int


class LinksOut(Schema):
    """``links``: every record the row is about; ``<type>_id``: the first linked record of that type."""

    links: list[LinkOut]
    company_id: int | None
    contact_id: int | None
    lead_id: int | None
    deal_id: int | None

    @staticmethod
    def resolve_links(obj):
        return [{"type": lk.record_type, "id": lk.record_id} for lk in sorted(obj.links.all(), key=lambda lk: lk.pk)]

    @staticmethod
    def resolve_company_id(obj):
        return next(iter(obj.linked_ids("company")), None)

    @staticmethod
    def resolve_contact_id(obj):
        return next(iter(obj.linked_ids("contact")), None)

    @staticmethod
    def resolve_lead_id(obj):
        return next(iter(obj.linked_ids("lead")), None)

    @staticmethod
    def resolve_deal_id(obj):
        return next(iter(obj.linked_ids("deal")), None)


class ActivityOut(Out, LinksOut):
    kind: str
    subject: str
    body: str
    occurred_at: dt.datetime
    direction: str
    outcome: str
    duration_minutes: int | None
    owner_id: int | None
    participant_ids: list[int]

    @staticmethod
    def resolve_participant_ids(obj):
        return [c.pk for c in obj.participants.all()]


class TaskFields(Links):
    description: Text | None = None
    due_at: dt.datetime | None = None
    reminder_at: dt.datetime | None = None
    assignee_id: Id | None = None
    status: Literal[tuple(TaskStatus.values)] | None = None
    priority: Literal[tuple(TaskPriority.values)] | None = None
    custom_fields: CustomValues | None = None


class TaskIn(TaskFields):
    title: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


class TaskPatch(TaskFields):
    title: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)] = None
    version: int | None = None


class TaskOut(Out, LinksOut):
    title: str
    description: str
    due_at: dt.datetime | None
    reminder_at: dt.datetime | None
    assignee_id: int | None
    created_by_id: int | None
    status: str
    priority: str
    completed_at: dt.datetime | None
