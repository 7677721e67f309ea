"""The record types the web app lists and shows, declared once.

Each kind reuses the API's declaration (crm.records.api.routes.RESOURCES) for its services, filters
and sorts, so a list page filters and sorts exactly like ``GET /api/v1/<kind>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.api.crud import Resource
from crm.records.api.routes import RESOURCES


@dataclass(frozen=True)
class Column:
    label: str
    key: str  # attribute path on the record, or cf_<key>
    sort: str | None = None  # a sort name of the resource
    filter: str | None = None  # a filter of the resource, e.g. "name__contains"
    choices: tuple[tuple[str, str], ...] = ()  # a filter select instead of a text box


@dataclass(frozen=True)
class Kind:
    slug: str  # URL segment and RESOURCES key
    singular: str
    plural: str
    columns: tuple[Column, ...]
    has_owner: bool = True
    owner_filter: str = "owner"

    @property
    def resource(self) -> Resource:
        return RESOURCES[self.slug]

    @property
    def model(self):
        return self.resource.model

    @property
    def object_type(self) -> str:
        return self.model.object_type


def _choices(enum) -> tuple[tuple[str, str], ...]:
    return tuple((value, label) for value, label in enum.choices)


def _kinds() -> dict[str, Kind]:
    from crm.records.models import DealStatus, LeadStatus, LifecycleStage, TaskPriority, TaskStatus

    return {
        "companies": Kind(
            "companies",
            "company",
            "companies",
            (
                Column("Name", "name", "name", "name__contains"),
                Column("Domain", "domain", None, "domain__contains"),
                Column("Industry", "industry", None, "industry__contains"),
                Column("City", "city", None, "city__contains"),
                Column("Stage", "lifecycle_stage", None, "lifecycle_stage", _choices(LifecycleStage)),
                Column("Owner", "owner", None, None),
                Column("Updated", "updated_at", "updated_at", None),
            ),
        ),
        "contacts": Kind(
            "contacts",
            "contact",
            "contacts",
            (
                Column("Name", "name", "name", "name__contains"),
                Column("Email", "email", "email", "email__contains"),
                Column("Phone", "phone", None, "phone__contains"),
                Column("Company", "company", None, None),
                Column("Title", "title", None, "title__contains"),
                Column("Stage", "lifecycle_stage", None, "lifecycle_stage", _choices(LifecycleStage)),
                Column("Owner", "owner", None, None),
                Column("Updated", "updated_at", "updated_at", None),
            ),
        ),
        "leads": Kind(
            "leads",
            "lead",
            "leads",
            (
                Column("Name", "name", "name", "name__contains"),
                Column("Company", "company_name", None, "company_name__contains"),
                Column("Email", "email", None, "email__contains"),
                Column("Status", "status", "status", "status", _choices(LeadStatus)),
                Column("Score", "score", "score", None),
                Column("Source", "source", None, "source__contains"),
                Column("Owner", "owner", None, None),
                Column("Updated", "updated_at", "updated_at", None),
            ),
        ),
        "deals": Kind(
            "deals",
            "deal",
            "deals",
            (
                Column("Name", "name", "name", "name__contains"),
                Column("Amount", "amount", "amount", None),
                Column("Stage", "stage", None, None),
                Column("Status", "status", None, "status", _choices(DealStatus)),
                Column("Close date", "expected_close_date", "expected_close_date", None),
                Column("Company", "company", None, None),
                Column("Owner", "owner", None, None),
            ),
        ),
        "tasks": Kind(
            "tasks",
            "task",
            "tasks",
            (
                Column("Title", "title", "title", None),
                Column("Due", "due_at", "due_at", None),
                Column("Priority", "priority", "priority", "priority", _choices(TaskPriority)),
                Column("Status", "status", None, "status", _choices(TaskStatus)),
                Column("Assignee", "assignee", None, None),
            ),
            owner_filter="assignee",
        ),
    }


_KINDS: dict[str, Kind] | None = None


def kinds() -> dict[str, Kind]:
    global _KINDS
    if _KINDS is None:
        _KINDS = _kinds()
    return _KINDS


def kind(slug: str) -> Kind:
    return kinds()[slug]


def kind_of(obj) -> Kind:
    """The kind of a record instance (for URLs)."""
    for k in kinds().values():
        if isinstance(obj, k.model):
            return k
    raise KeyError(type(obj).__name__)


SLUG_OF_TYPE = {"company": "companies", "contact": "contacts", "lead": "leads", "deal": "deals", "task": "tasks"}
