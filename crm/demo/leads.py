"""Demo leads in every status; disqualified ones say why.

They have structure a model can learn (crm/predict, docs/predict.md), never a result it must reach:
each lead has an engagement drawn at random that makes both its activities (crm/demo/activities.py
picks engaged leads more often) and its chance to be qualified, and some sources lean towards
qualified (referrals, partners) or away from it (outbound). A lead that ends qualified or
disqualified is created "working" and closed later through the lead service (``close``: its status,
when and why; saving.py ``close_leads``), so its history says when it was decided.
"""

from __future__ import annotations

import datetime as dt

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
LEAN = {"Referral": 0.3, "Partner": 0.2, "Webinar": 0.1, "Content download": -0.1, "Outbound": -0.25}
CLOSED = (LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED)


def build(world: World, count: int) -> tuple[list[Lead], list]:
    """The leads and their tag links. The first few cycle through the statuses, so all appear."""
    leads, tag_links = [], []
    for i in range(count):
        engagement, source = world.rng.random(), world.pick(SOURCES)
        status = STATUSES[i][0] if i < len(STATUSES) else _status(world, engagement, source)
        lead = _lead(world, status, source, engagement)
        leads.append(lead)
        if world.chance(0.15):
            tag_links.append(Lead.tags.through(lead=lead, tag=world.tags[world.pick(("Trade show", "Newsletter"))]))
    return leads, tag_links


def _status(world: World, engagement: float, source: str) -> str:
    """Open in half the cases; else qualified when engaged enough for its source (1 in 10 the other way)."""
    if world.chance(0.5):
        return world.weighted(STATUSES[:3])
    qualified = (engagement + LEAN.get(source, 0.0) > 0.55) != world.chance(0.1)
    return LeadStatus.QUALIFIED if qualified else LeadStatus.DISQUALIFIED


def _lead(world: World, status: str, source: str, engagement: float) -> Lead:
    country = world.country()
    fake = world.faker(country)
    first, last = fake.first_name(), fake.last_name()
    company_name = fake.company()
    domain = world.domain_for(company_name)
    created = world.days_ago(1, 240)
    low, high = SCORES.get(status, (10, 80))
    reason = world.pick(DISQUALIFIED_REASONS) if status == LeadStatus.DISQUALIFIED else ""
    lead = Lead(
        first_name=first,
        last_name=last,
        name=f"{first} {last}",
        company_name=company_name,
        title=world.pick(TITLES),
        email=world.email(first, last, domain) if world.chance(0.9) else "",
        phone=phone_number(world.rng, country) if world.chance(0.7) else "",
        website=f"https://www.{domain}" if world.chance(0.6) else "",
        status=LeadStatus.WORKING if status in CLOSED else status,
        source=source,
        score=world.rng.randint(low, high),
        # A few leads wait in the unassigned queue for a manager to hand out.
        owner=world.seller() if world.chance(0.92) else None,
        custom_fields=world.custom("lead", "budget", world.rng.randrange(5, 250) * 1000) if world.chance(0.5) else {},
        created_at=created,
        updated_at=world.between(created, world.now),
    )
    lead.engagement = engagement
    # Decided after one to eight weeks of work (no later than an hour ago).
    closed_at = min(created + dt.timedelta(days=world.rng.uniform(7, 56)), world.now - dt.timedelta(hours=1))
    lead.close = (status, max(closed_at, created), reason) if status in CLOSED else None
    return lead
