"""Demo contacts with their emails and phones (one primary each), consent and tags."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.demo.catalog import CONSENT_SOURCES, PERSONAL_MAIL, SOURCES, TITLES
from crm.demo.companies import Companies
from crm.demo.countries import phone_number
from crm.demo.world import World, slug
from crm.records.models import Contact, ContactEmail, ContactPhone, LifecycleStage


@dataclass
class People:
    records: list[Contact] = field(default_factory=list)
    company_index: list[int | None] = field(default_factory=list)  # records[i] works at companies[index]
    emails: list[ContactEmail] = field(default_factory=list)
    phones: list[ContactPhone] = field(default_factory=list)
    tag_links: list = field(default_factory=list)
    by_company: dict[int, list[Contact]] = field(default_factory=dict)  # company index -> its contacts


def build(world: World, count: int, companies: Companies) -> People:
    out = People()
    n_companies = len(companies.records)
    for i in range(count):
        # Every company gets one contact first, then bigger companies get more; a few have none.
        if n_companies and (i < n_companies or world.chance(0.92)):
            index = i if i < n_companies else companies.pick_index(world)
        else:
            index = None
        contact = _contact(world, companies, index, out)
        out.records.append(contact)
        out.company_index.append(index)
        if index is not None:
            out.by_company.setdefault(index, []).append(contact)
    return out


def _contact(world: World, companies: Companies, index: int | None, out: People) -> Contact:
    company = companies.records[index] if index is not None else None
    country = companies.countries[index] if index is not None else world.country()
    fake = world.faker(country)
    first, last = fake.first_name(), fake.last_name()
    created = world.between(company.created_at if company else world.days_ago(700, 900), world.days_ago(2, 3))
    owner = company.owner if company and world.chance(0.8) else world.seller()
    contact = Contact(
        first_name=first,
        last_name=last,
        name=f"{first} {last}",
        title=world.pick(TITLES) if company else "",
        company=company,
        owner=owner,
        lifecycle_stage=company.lifecycle_stage if company and world.chance(0.8) else LifecycleStage.LEAD,
        source=world.pick(SOURCES),
        city=fake.city() if not company else company.city,
        country=country.name,
        custom_fields=_linkedin(world, first, last) if world.chance(0.6) else {},
        created_at=created,
        updated_at=world.between(created, world.now),
    )
    if world.chance(0.35):
        contact.email_opt_in = True
        contact.email_opt_in_at = world.between(created, world.now)
        contact.email_opt_in_source = world.pick(CONSENT_SOURCES)
    _emails(world, contact, out)
    _phones(world, contact, country, out)
    if world.chance(0.15):
        tag = world.tags["Newsletter" if contact.email_opt_in else world.pick(("VIP", "Trade show"))]
        out.tag_links.append(Contact.tags.through(contact=contact, tag=tag))
    return contact


def _emails(world: World, contact: Contact, out: People) -> None:
    first, last = contact.first_name, contact.last_name
    items = []
    if contact.company is not None:
        items.append(("work", world.email(first, last, contact.company.domain)))
    if contact.company is None or world.chance(0.2):
        items.append(("home", world.email(first, last, world.pick(PERSONAL_MAIL))))
    contact.email = items[0][1]
    out.emails += [ContactEmail(contact=contact, email=e, kind=k, is_primary=i == 0) for i, (k, e) in enumerate(items)]


def _phones(world: World, contact: Contact, country, out: People) -> None:
    if not world.chance(0.85):
        return
    kinds = [world.pick(("work", "mobile"))]
    if world.chance(0.35):
        kinds.append("mobile" if kinds[0] == "work" else "work")
    numbers = list(dict.fromkeys(phone_number(world.rng, country) for _ in kinds))
    contact.phone = numbers[0]
    out.phones += [
        ContactPhone(contact=contact, number=n, kind=k, is_primary=i == 0)
        for i, (n, k) in enumerate(zip(numbers, kinds, strict=False))
    ]


def _linkedin(world: World, first: str, last: str) -> dict:
    # A reserved .example host: a demo profile link must never open a real person's page.
    handle = f"{slug(first)}-{slug(last)}-{world.rng.randrange(16**4):04x}"
    return world.custom("contact", "linkedin", f"https://linkedin.example/in/{handle}")
