"""Demo leads in every status; disqualified ones say why."""

from __future__ import annotations

from crm.demo.catalog import DISQUALIFIED_REASONS, SOURCES, TITLES
from crm.demo.countries import phone_number
from crm.demo.world import World
from crm.records.models import Lead, LeadStatus

STATUSES = (
    (LeadStatus.NEW, 30),
    (LeadStatus.WORKING, 25),
    (LeadStatus.NURTURING, 15),
    (LeadStatus.QUALIFIED, 15),
    (LeadStatus.DISQUALIFIED, 15),
)
SCORES = {LeadStatus.QUALIFIED: (60, 100), LeadStatus.DISQUALIFIED: (0, 30)}


def build(world: World, count: int) -> tuple[list[Lead], list]:
    """The leads and their tag links. The first few cycle through the statuses, so all appear."""
    leads, tag_links = [], []
    for i in range(count):
        status = STATUSES[i][0] if i < len(STATUSES) else world.weighted(STATUSES)
        lead = _lead(world, status)
        leads.append(lead)
        if world.chance(0.15):
            tag_links.append(Lead.tags.through(lead=lead, tag=world.tags[world.pick(("Trade show", "Newsletter"))]))
    return leads, tag_links


def _lead(world: World, status: str) -> Lead:
    country = world.country()
    fake = world.faker(country)
    first, last = fake.first_name(), fake.last_name()
    company_name = fake.company()
    domain = world.domain_for(company_name)
    created = world.days_ago(1, 240)
    low, high = SCORES.get(status, (10, 80))
    return Lead(
        first_name=first,
        last_name=last,
        name=f"{first} {last}",
        company_name=company_name,
        title=world.pick(TITLES),
        email=world.email(first, last, domain) if world.chance(0.9) else "",
        phone=phone_number(world.rng, country) if world.chance(0.7) else "",
        website=f"https://www.{domain}" if world.chance(0.6) else "",
        status=status,
        disqualified_reason=world.pick(DISQUALIFIED_REASONS) if status == LeadStatus.DISQUALIFIED else "",
        source=world.pick(SOURCES),
        score=world.rng.randint(low, high),
        # A few leads wait in the unassigned queue for a manager to hand out.
        owner=world.seller() if world.chance(0.92) else None,
        custom_fields=world.custom("lead", "budget", world.rng.randrange(5, 250) * 1000) if world.chance(0.5) else {},
        created_at=created,
        updated_at=world.between(created, world.now),
    )
