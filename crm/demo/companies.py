"""Demo companies, with their web domains, tags and a few parent companies (unsaved, for bulk insert)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from crm.demo.catalog import INDUSTRIES, SIZES
from crm.demo.countries import Country, phone_number
from crm.demo.world import World
from crm.records.models import Company, CompanyDomain, LifecycleStage

LIFECYCLE = (
    (LifecycleStage.LEAD, 15),
    (LifecycleStage.MQL, 8),
    (LifecycleStage.SQL, 10),
    (LifecycleStage.OPPORTUNITY, 22),
    (LifecycleStage.CUSTOMER, 35),
    (LifecycleStage.EVANGELIST, 5),
    (LifecycleStage.OTHER, 5),
)
# Bigger companies get more contacts and deals.
SIZE_PULL = {size: i + 1 for i, (size, _, _) in enumerate(SIZES)}


@dataclass
class Companies:
    records: list[Company] = field(default_factory=list)
    countries: list[Country] = field(default_factory=list)  # records[i] is in countries[i]
    domains: list[CompanyDomain] = field(default_factory=list)
    tag_links: list = field(default_factory=list)
    parents: list[tuple[Company, Company]] = field(default_factory=list)  # (child, parent), set after insert
    pull: list[int] = field(default_factory=list)  # each company's weight when picking one for a contact or deal

    def pick_index(self, world: World) -> int:
        """A company index, weighted towards bigger companies."""
        return world.rng.choices(range(len(self.records)), self.pull)[0]


def build(world: World, count: int) -> Companies:
    out = Companies()
    names: set[str] = set()
    for _ in range(count):
        country = world.country()
        company = _company(world, country, _unique_name(world, country, names))
        out.records.append(company)
        out.countries.append(country)
        out.pull.append(SIZE_PULL[company.size])
        out.domains.append(CompanyDomain(company=company, domain=company.domain))
        if world.chance(0.2):
            out.domains.append(CompanyDomain(company=company, domain=world.domain_for(f"get {company.name}")))
        out.tag_links += [Company.tags.through(company=company, tag=t) for t in _tags(world, company)]
    for child in out.records[10:]:
        if world.chance(0.05):
            parent = out.records[world.rng.randrange(10)]
            out.parents.append((child, parent))
    return out


def _unique_name(world: World, country: Country, names: set[str]) -> str:
    fake = world.faker(country)
    name = fake.company()
    for _ in range(5):
        if name not in names:
            break
        name = fake.company()
    base, n = name, 1
    while name in names:
        n += 1
        name = f"{base} {n}"
    names.add(name)
    return name


def _company(world: World, country: Country, name: str) -> Company:
    fake = world.faker(country)
    size, (low, high) = world.weighted([((size, revenue), weight) for size, weight, revenue in SIZES])
    domain = world.domain_for(name)
    created = world.days_ago(400, 1000)
    return Company(
        name=name,
        domain=domain,
        industry=world.pick(INDUSTRIES),
        size=size,
        annual_revenue=Decimal(world.rng.randint(low, high) * 1000),
        phone=phone_number(world.rng, country),
        website=f"https://www.{domain}",
        owner=world.seller(),
        lifecycle_stage=world.weighted(LIFECYCLE),
        street=" ".join(fake.street_address().split()),
        city=fake.city(),
        postal_code=fake.postcode(),
        country=country.name,
        custom_fields=world.custom("company", "region", country.region) if world.chance(0.8) else {},
        created_at=created,
        updated_at=world.between(created, world.now),
    )


def _tags(world: World, company: Company) -> list:
    if not world.chance(0.3):
        return []
    big = SIZE_PULL[company.size] >= 5
    names = ["VIP", "Partner", "Churn risk", "Upsell", "Enterprise" if big else "Startup"]
    return [world.tags[n] for n in world.rng.sample(names, world.rng.choice((1, 1, 2)))]
