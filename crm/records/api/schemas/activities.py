"""Activities and tasks, and the generic links that say which records they are about."""

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from crm.records.api.schemas.common import CustomValues, Id, In, Out, S, Text
from crm.records.models import ActivityKind, TaskPriority, TaskStatus

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
    occurred_at: dt.datetime = None  # omitted: now (a new one), or kept; null is no time
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
    """reminder_at must not be after due_at (422 on reminder_at)."""

    description: Text | None = None
    due_at: dt.datetime | None = None
    reminder_at: dt.datetime | None = None
    assignee_id: Id | None = None
    # Omitted keeps the value (a new task is open, normal); null is not a status.
    status: Literal[tuple(TaskStatus.values)] = None
    priority: Literal[tuple(TaskPriority.values)] = None
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
