"""Saving the planned demo organization through the record services, as the demo admin.

The builders (companies.py, contacts.py, ...) plan the records as unsaved model objects; here each
becomes the service's data and is created the way an import or the API would create it: validated,
indexed for search, in the change log (source ``demo``) with a ``record.created`` event. Companies,
contacts and leads go through the bulk services; deals are created in their path's first stage and
moved forward with ``deal_update`` (so their stage history is the service's own); activities in
bulk, tasks one at a time. Each call runs at the time the builders drew for it (``clock.at``): a deal won
last spring was created, moved and closed then, and its change log says so. A bulk chunk is stamped
with its earliest record's time, so nothing on a record happened before the record existed.
"""

from __future__ import annotations

from collections import defaultdict

from crm.core import clock
from crm.core.errors import ValidationFailed
from crm.demo.activities import Planned
from crm.demo.companies import Companies
from crm.demo.contacts import People
from crm.demo.deals import Sales
from crm.records.models import Lead
from crm.records.services.activities import task_create
from crm.records.services.activities_bulk import activity_create_many
from crm.records.services.companies import FIELDS as COMPANY_FIELDS
from crm.records.services.companies import company_create_many
from crm.records.services.contacts import FIELDS as CONTACT_FIELDS
from crm.records.services.contacts import contact_create_many
from crm.records.services.deals import deal_create, deal_update
from crm.records.services.leads import FIELDS as LEAD_FIELDS
from crm.records.services.leads import lead_create_many, lead_update

CHUNK = 25  # records per bulk call (each chunk stamped with its earliest time: small keeps them spread)
RELATIONS = ("owner", "company", "parent")  # sent as <name>_id


class DemoInvalid(Exception):
    """A planned record the service refused: a bug in the demo's builders, never the user's input."""


def _plain(obj, fields, **extra) -> dict:
    data = {name: getattr(obj, name) for name in fields if name not in RELATIONS}
    for name in RELATIONS:
        if name in fields:
            related = getattr(obj, name)
            data[f"{name}_id"] = related.pk if related is not None else None
    return {**data, "custom_fields": obj.custom_fields, **extra}


def _tags_of(links, owner_attr: str) -> dict[int, list[str]]:
    tags = defaultdict(list)
    for link in links:
        tags[id(getattr(link, owner_attr))].append(link.tag.name)
    return tags


def _create_many(service, actor, planned: list, items: list[dict]) -> None:
    """Create in chunks and give each planned object the new record's id (its relations read it)."""
    for start in range(0, len(items), CHUNK):
        chunk = planned[start : start + CHUNK]
        with clock.at(min(obj.created_at for obj in chunk)):
            results = service(actor=actor, items=items[start : start + CHUNK])
        for obj, result in zip(planned[start : start + CHUNK], results, strict=True):
            if isinstance(result, ValidationFailed):
                raise DemoInvalid(f"{obj}: {result.fields or result.message}")
            obj.pk = result.pk


def save_companies(actor, comp: Companies) -> None:
    tags = _tags_of(comp.tag_links, "company")
    domains = defaultdict(list)
    for row in comp.domains:
        domains[id(row.company)].append(row.domain)
    parent_of = {id(child): parent for child, parent in comp.parents}
    # Parents are among the first ten: those go first, so the others can name them.
    for group in (comp.records[:10], comp.records[10:]):
        items = [
            _plain(c, COMPANY_FIELDS, domains=domains[id(c)], tags=tags[id(c)], parent_id=_pk(parent_of.get(id(c))))
            for c in group
        ]
        _create_many(company_create_many, actor, group, items)


def _pk(obj):
    return obj.pk if obj is not None else None


def save_contacts(actor, people: People) -> None:
    tags = _tags_of(people.tag_links, "contact")
    emails, phones = defaultdict(list), defaultdict(list)
    for e in people.emails:
        emails[id(e.contact)].append({"email": e.email, "kind": e.kind, "primary": e.is_primary})
    for p in people.phones:
        phones[id(p.contact)].append({"number": p.number, "kind": p.kind, "primary": p.is_primary})
    items = [
        _plain(c, CONTACT_FIELDS, emails=emails[id(c)], phones=phones[id(c)], tags=tags[id(c)]) for c in people.records
    ]
    _create_many(contact_create_many, actor, people.records, items)


def save_leads(actor, leads: list, tag_links: list) -> None:
    tags = _tags_of(tag_links, "lead")
    items = [_plain(lead, LEAD_FIELDS, tags=tags[id(lead)]) for lead in leads]
    _create_many(lead_create_many, actor, leads, items)


DEAL_FIELDS = ("name", "amount", "currency", "company", "expected_close_date", "owner")


def save_deals(actor, sales: Sales) -> int:
    """Each deal enters its path's first stage and moves on stage by stage; returns the moves made."""
    tags = _tags_of(sales.tag_links, "deal")
    paths, contacts = defaultdict(list), defaultdict(list)
    for change in sales.stage_changes:
        paths[id(change.deal)].append(change)
    for link in sales.deal_contacts:
        contacts[id(link.deal)].append({"contact_id": link.contact.pk, "role": link.role})
    moves = 0
    for planned in sales.records:
        first, *rest = paths[id(planned)]
        data = _plain(
            planned, DEAL_FIELDS, stage_id=first.to_stage.pk, tags=tags[id(planned)], contacts=contacts[id(planned)]
        )
        with clock.at(first.changed_at):
            deal = _checked(deal_create, actor=actor, data=data)
        for change in rest:
            stage = change.to_stage
            move = {"stage_id": stage.pk, **({"lost_reason": planned.lost_reason} if stage.is_lost else {})}
            with clock.at(change.changed_at):
                deal = _checked(deal_update, deal, actor=actor, data=move)
            moves += 1
        planned.pk = deal.pk
    return moves


def _checked(service, *args, **kwargs):
    try:
        return service(*args, **kwargs).obj
    except ValidationFailed as exc:
        raise DemoInvalid(f"{service.__name__}: {exc.fields or exc.message}") from None


def _link_ids(planned: Planned) -> dict:
    """The links as the activity and task services take them: company_id, contact_id, lead_id, deal_id."""
    return {f"{kind}_id": record.pk for kind, record in planned.links.items() if record is not None}


def save_activities(actor, activities: list[Planned]) -> None:
    """In time order, a bulk call per chunk stamped with its earliest activity's time."""
    ordered = sorted(activities, key=lambda p: p.at)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        items = [{**p.data, **_link_ids(p), "participant_ids": [c.pk for c in p.participants]} for p in chunk]
        with clock.at(chunk[0].at):
            results = activity_create_many(actor=actor, items=items)
        for planned, result in zip(chunk, results, strict=True):
            if isinstance(result, ValidationFailed):
                raise DemoInvalid(f"activity {planned.data.get('subject')!r}: {result.fields or result.message}")


def close_leads(actor, leads: list) -> int:
    """The decided leads, qualified or disqualified at the time the builder drew (crm/demo/leads.py)."""
    closing = sorted((lead for lead in leads if getattr(lead, "close", None)), key=lambda lead: lead.close[1])
    for planned in closing:
        status, at, reason = planned.close
        with clock.at(at):
            _checked(
                lead_update,
                Lead.objects.get(pk=planned.pk),
                actor=actor,
                data={"status": status, "disqualified_reason": reason},
            )
    return len(closing)


def save_tasks(actor, tasks: list[Planned]) -> None:
    for planned in tasks:
        with clock.at(planned.at):
            _checked(task_create, actor=actor, data={**planned.data, **_link_ids(planned)})
