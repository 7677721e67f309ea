"""The seeded randomness and the reference objects every demo step draws from.

All choices go through ``rng`` and the per-locale Fakers, both seeded, and pick from lists in a
fixed order (never from database ids), so one seed gives the same organization on every run.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from django.utils import timezone
from faker import Faker

from crm.customization.models import CustomField
from crm.customization.validation import coerce
from crm.demo.catalog import LEGAL_WORDS
from crm.demo.countries import COUNTRIES, LOCALES, WEIGHTS, Country
from crm.demo.setup import PipelinePlan
from crm.records.models import Tag
from crm.search.registry import fold

# How much of the sellers' book each one holds: rep1 carries the most, managers a little.
SELLER_WEIGHTS = {"rep1": 40, "rep2": 25, "rep3": 20, "manager": 8, "manager2": 7}
# Only the Faker providers the demo uses: loading all of them for 12 locales costs about a second.
FAKER_PROVIDERS = ["faker.providers.person", "faker.providers.company", "faker.providers.address"]


@dataclass
class World:
    seed: int
    admin: object
    users: dict[str, object]
    pipelines: dict[str, PipelinePlan]
    fields: dict[tuple[str, str], CustomField]
    tags: dict[str, Tag]
    now: dt.datetime = field(default_factory=timezone.now)
    rng: random.Random = field(init=False)
    fakers: dict[str, Faker] = field(init=False)
    sellers: list = field(init=False)
    reps: list = field(init=False)
    used_emails: set[str] = field(default_factory=set)
    used_domains: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.fakers = {}
        for i, locale in enumerate(LOCALES):
            fake = Faker(locale, providers=FAKER_PROVIDERS)
            fake.seed_instance(self.seed * 1000 + i)
            self.fakers[locale] = fake
        self.sellers = [self.users[name] for name in SELLER_WEIGHTS]
        self.reps = [self.users[name] for name in ("rep1", "rep2", "rep3")]

    # --- randomness ------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items, weights=None):
        return self.rng.choices(items, weights)[0] if weights else self.rng.choice(items)

    def weighted(self, pairs):
        """One item of ((item, weight), ...)."""
        items, weights = zip(*pairs, strict=True)
        return self.rng.choices(items, weights)[0]

    def seller(self):
        return self.pick(self.sellers, list(SELLER_WEIGHTS.values()))

    def country(self) -> Country:
        return self.pick(COUNTRIES, WEIGHTS)

    def faker(self, country: Country) -> Faker:
        return self.fakers[country.locale]

    # --- time ------------------------------------------------------------------------------

    def days_ago(self, low: float, high: float) -> dt.datetime:
        return self.now - dt.timedelta(days=self.rng.uniform(low, high))

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        return start + (end - start) * self.rng.random() if end > start else start

    def today_at(self, hour: int, minute: int = 0) -> dt.datetime:
        return timezone.localtime(self.now).replace(hour=hour, minute=minute, second=0, microsecond=0)

    # --- names -----------------------------------------------------------------------------

    def domain_for(self, company_name: str) -> str:
        """A unique web domain from the company name, under the reserved .example top-level domain."""
        # Dots go first, so "S.A." and "e.V." become the legal words "sa" and "ev" and are dropped.
        words = [w for w in map(slug, fold(company_name.replace(".", "")).split()) if w and w not in LEGAL_WORDS]
        base = "-".join(words[:2]) or "company"
        domain, n = f"{base}.example", 1
        while domain in self.used_domains:
            n += 1
            domain = f"{base}{n}.example"
        self.used_domains.add(domain)
        return domain

    def email(self, first: str, last: str, domain: str) -> str:
        local = ".".join(w for w in (slug(first), slug(last)) if w) or "info"
        email, n = f"{local}@{domain}", 1
        while email in self.used_emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.used_emails.add(email)
        return email

    # --- custom fields ---------------------------------------------------------------------

    def custom(self, object_type: str, key: str, raw) -> dict:
        """{key: value} in the stored form, or {} when the installation's field differs from the demo's."""
        definition = self.fields.get((object_type, key))
        return {key: coerce(definition, raw)} if definition is not None else {}


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: for email local parts and profile handles."""
    return re.sub(r"[^a-z0-9]", "", fold(text).replace("ß", "ss"))
