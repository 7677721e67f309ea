"""`generate()`: the whole demo organization in one transaction, built in memory and bulk inserted.

Records are made unsaved (related rows point at unsaved parents; Django fills the ids in once the
parents are inserted), then inserted parents first, then the change log is written in bulk and
the search index rebuilt. One failure rolls everything back: no half-made demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import prefetch_related_objects

from crm.audit.changelog import log_bulk_create
from crm.core.context import change_context
from crm.demo import activities, companies, contacts, deals, leads, setup
from crm.demo.world import World
from crm.records.models import Company, Contact
from crm.search import index

BATCH = 500
LOG_CHUNK = 1000  # records per change-log batch: bounds the IN lists of its prefetch queries


class AlreadyFilled(Exception):
    """The database already holds companies or contacts; the demo only fills an empty CRM."""


@dataclass(frozen=True)
class Sizes:
    companies: int = 200
    contacts: int = 1000
    deals: int = 300

    @property
    def leads(self) -> int:
        return max(5, round(self.contacts * 0.15)) if self.contacts else 0

    @property
    def activities(self) -> int:
        return self.contacts * 3

    @property
    def tasks(self) -> int:
        return round(self.contacts * 0.4)


@dataclass
class Result:
    logins: list[setup.Login]
    counts: dict[str, int]


def has_data() -> bool:
    return Company.objects.exists() or Contact.objects.exists()


def generate(*, seed: int = 42, sizes: Sizes = Sizes()) -> Result:
    with change_context(source="demo"), transaction.atomic():
        if has_data():
            raise AlreadyFilled
        logins = setup.ensure_users()
        users = {login.spec.username: login.user for login in logins}
        world = World(
            seed=seed,
            admin=users["admin"],
            users=users,
            pipelines=setup.ensure_pipelines(users["admin"]),
            fields=setup.ensure_custom_fields(users["admin"]),
            tags=setup.ensure_tags(),
        )
        counts = _build_and_insert(world, sizes)
        counts["automation rules"] = setup.install_automation_examples()
        counts["search index rows"] = index.rebuild()
        return Result(logins, counts)


def _build_and_insert(world: World, sizes: Sizes) -> dict[str, int]:
    # Build in a fixed order: the seeded choices then come out the same on every run.
    comp = companies.build(world, sizes.companies)
    people = contacts.build(world, sizes.contacts, comp)
    lead_rows, lead_tags = leads.build(world, sizes.leads)
    sales = deals.build(world, sizes.deals, comp, people)
    anchors = activities.Anchors(world, comp, people, sales, lead_rows)
    acts, participants, act_links = activities.build_activities(world, sizes.activities, anchors)
    tasks, task_links = activities.build_tasks(world, sizes.tasks, anchors)

    _insert(comp.records, comp.domains, comp.tag_links)
    for child, parent in comp.parents:
        child.parent = parent
    Company.objects.bulk_update([child for child, _ in comp.parents], ["parent"], batch_size=BATCH)
    _insert(people.records, people.emails, people.phones, people.tag_links)
    _insert(lead_rows, lead_tags)
    _insert(sales.records, sales.stage_changes, sales.deal_contacts, sales.tag_links)
    _insert(acts, participants, tasks)
    _insert(activities.activity_links(act_links), activities.task_links(task_links))

    actor = world.admin
    _log(actor, comp.records, "tags", "domains")
    _log(actor, people.records, "tags", "emails", "phones")
    _log(actor, lead_rows, "tags")
    _log(actor, sales.records, "tags", "deal_contacts")
    _log(actor, acts, "participants", "links")
    _log(actor, tasks, "links")
    return {
        "companies": len(comp.records),
        "contacts": len(people.records),
        "leads": len(lead_rows),
        "deals": len(sales.records),
        "stage changes": len(sales.stage_changes),
        "activities": len(acts),
        "tasks": len(tasks),
        "change log entries": sum(map(len, (comp.records, people.records, lead_rows, sales.records, acts, tasks))),
    }


def _insert(*groups: list) -> None:
    for rows in groups:
        if rows:
            type(rows[0]).objects.bulk_create(rows, batch_size=BATCH)


def _log(actor, records: list, *prefetch: str) -> None:
    """Change log "create" entries; prefetching first lets each snapshot read tags, emails... from memory."""
    for start in range(0, len(records), LOG_CHUNK):
        chunk = records[start : start + LOG_CHUNK]
        if prefetch:
            prefetch_related_objects(chunk, *prefetch)
        log_bulk_create(actor, chunk)
