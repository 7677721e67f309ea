"""The related-records panels of a record page, each read through restrict() with a small limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.customization.models import CustomField, FieldType
from crm.records.models import Contact, Deal, Task, TaskStatus

LIMIT = 10


@dataclass
class Section:
    title: str
    kind: str  # list slug, for "see all" and "add" links
    rows: list
    see_all: str = ""
    add: str = ""
    empty: str = "None yet."
    extra: dict = field(default_factory=dict)


def _list_url(slug: str, **filters) -> str:
    return f"{reverse('web:record-list', args=[slug])}?{urlencode(filters)}"


def _new_url(slug: str, **initial) -> str:
    return f"{reverse('web:record-create', args=[slug])}?{urlencode(initial)}"


def _open_tasks(user, record):
    return list(
        Task.objects.restrict(user)
        .linked_to(record)
        .filter(status__in=[TaskStatus.OPEN, TaskStatus.IN_PROGRESS])
        .select_related("assignee")
        .order_by("due_at", "id")[:LIMIT]
    )


def related_for(kind, obj, user) -> list[Section]:
    sections = [*_declared_related(kind, obj, user), *lookup_sections(kind, obj, user)]
    policy = policy_for(user)
    for section in sections:
        # "+ Add" only for a role that may add that type (a read-only user was offered it, then refused).
        added = recordtypes.by_slug(section.kind)
        if section.add and (added is None or not policy.allows(added.object_type, "add")):
            section.add = ""
    for section in sections:  # the rows are display copies: blank what the user's role may not see
        for row in section.rows:
            rt = recordtypes.of(row) if hasattr(row, "object_type") else None
            if rt is not None and (hidden := policy.hidden_fields(rt.object_type)):
                fieldrules.blank(rt, row, hidden)
    return sections


def lookup_sections(kind, obj, user) -> list[Section]:
    """A section per lookup custom field of another type that targets this one ("Vehicles" on a
    company whose vehicles name it): the records pointing here the user may see, newest first."""
    policy = policy_for(user)
    fields = CustomField.objects.filter(field_type=FieldType.LOOKUP, target=kind.object_type).order_by("order", "id")
    sections = []
    for f in fields:
        rt = recordtypes.by_type(f.object_type)
        if rt is None or not rt.pages or not policy.allows(rt.object_type, "view"):
            continue
        # KeyTransform, not custom_fields__<key>: a key such as "contains" would read as a lookup.
        rows = rt.restricted(user).alias(points_at=KeyTransform(f.key, "custom_fields")).filter(points_at=obj.pk)
        several = sum(1 for other in fields if other.object_type == f.object_type) > 1
        may_add = policy.allows(rt.object_type, "add") and not rt.extra.get("archived")
        sections.append(
            Section(
                f"{rt.label} ({f.label})" if several else rt.label,
                rt.slug,
                list(rows.select_related("owner").order_by("-created_at", "-id")[:LIMIT]),
                _list_url(rt.slug, **{f"cf_{f.key}": obj.pk}),
                _new_url(rt.slug, **{f"cf_{f.key}": obj.pk}) if may_add else "",
                extra={"lookup": f.key},
            )
        )
    return sections


def _declared_related(kind, obj, user) -> list[Section]:
    slug = kind.slug
    if slug == "companies":
        return [
            Section(
                "Contacts",
                "contacts",
                list(Contact.objects.restrict(user).filter(company=obj).order_by("name", "id")[:LIMIT]),
                _list_url("contacts", company=obj.pk),
                _new_url("contacts", company=obj.pk),
            ),
            Section(
                "Deals",
                "deals",
                list(Deal.objects.restrict(user).filter(company=obj).select_related("stage").order_by("-id")[:LIMIT]),
                _list_url("deals", company=obj.pk),
                _new_url("deals", company=obj.pk),
            ),
            Section("Open tasks", "tasks", _open_tasks(user, obj), _list_url("tasks", company=obj.pk)),
        ]
    if slug == "contacts":
        deals = Deal.objects.restrict(user).filter(deal_contacts__contact=obj).select_related("stage")
        return [
            Section(
                "Deals",
                "deals",
                list(deals.order_by("-id")[:LIMIT]),
                _list_url("deals", contact=obj.pk),
                _new_url("deals", contact=obj.pk, company=obj.company_id or ""),
            ),
            Section("Open tasks", "tasks", _open_tasks(user, obj), _list_url("tasks", contact=obj.pk)),
        ]
    if slug == "deals":
        contacts = Contact.objects.restrict(user).filter(deal_roles__deal=obj).order_by("name", "id")
        history = obj.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by(
            "-changed_at", "-id"
        )
        return [
            Section("Contacts", "contacts", list(contacts[:LIMIT]), _list_url("contacts", id__in=_ids(contacts))),
            Section("Open tasks", "tasks", _open_tasks(user, obj), _list_url("tasks", deal=obj.pk)),
            Section("Stage history", "stages", list(history[:LIMIT])),
        ]
    if slug == "leads":
        return [Section("Open tasks", "tasks", _open_tasks(user, obj), _list_url("tasks", lead=obj.pk))]
    return []


def _ids(qs) -> str:
    return ",".join(str(pk) for pk in qs.values_list("pk", flat=True)[:LIMIT]) or "0"
