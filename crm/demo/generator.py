"""`generate()`: the whole demo organization, planned in memory and saved through the services.

Records are planned unsaved (builders), then created parents first through the record services by
the demo admin (saving.py), so they are validated, indexed and in the change log like any other.
One failure rolls everything back: no half-made demo. The example automation rules are added after
that commit, so they act on the next change, not on the demo's own records.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crm.audit.models import ObjectChange
from crm.core.context import change_context
from crm.demo import activities, companies, contacts, deals, invoices, leads, saving, setup
from crm.demo import currencies as demo_currencies
from crm.demo import products as catalogue
from crm.demo.world import World
from crm.records.models import Company, Contact


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
    with change_context(source="demo"):
        with transaction.atomic():
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
                tags=setup.ensure_tags(users["admin"]),
            )
            rates = demo_currencies.ensure_currencies(users["admin"], world.now)  # before EUR and GBP deals
            logged_before = ObjectChange.objects.count()
            counts = _build_and_save(world, sizes)
            counts["exchange rates"] = rates
            counts["change log entries"] = ObjectChange.objects.count() - logged_before
        counts["automation rules"] = setup.install_automation_examples()
        return Result(logins, counts)


def _build_and_save(world: World, sizes: Sizes) -> dict[str, int]:
    # Build in a fixed order: the seeded choices then come out the same on every run.
    comp = companies.build(world, sizes.companies)
    people = contacts.build(world, sizes.contacts, comp)
    lead_rows, lead_tags = leads.build(world, sizes.leads)
    sales = deals.build(world, sizes.deals, comp, people)
    anchors = activities.Anchors(world, comp, people, sales, lead_rows)
    acts = activities.build_activities(world, sizes.activities, anchors)
    tasks = activities.build_tasks(world, sizes.tasks, anchors)

    actor = world.admin
    saving.save_companies(actor, comp)
    saving.save_contacts(actor, people)
    saving.save_leads(actor, lead_rows, lead_tags)
    moves = saving.save_deals(actor, sales)
    saving.save_activities(actor, acts)
    closed_leads = saving.close_leads(actor, lead_rows)
    saving.save_tasks(actor, tasks)
    made = catalogue.save_catalogue(actor)
    made["invoices"] = invoices.save_invoices(world, comp.records)
    return {
        "companies": len(comp.records),
        "contacts": len(people.records),
        "leads": len(lead_rows),
        "leads qualified or disqualified": closed_leads,
        "deals": len(sales.records),
        "stage changes": len(sales.records) + moves,
        "activities": len(acts),
        "tasks": len(tasks),
        **made,
    }
