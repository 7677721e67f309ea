"""Pools of realistic values made once with Faker (fixed seed) and combined per row.

Faker per row costs tens of microseconds; combining a few thousand pre-made names, titles and
sentences with a seeded random generator costs about one, which is what makes millions of rows
per minute possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from faker import Faker

from crm.search.registry import fold


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text).replace(" ", ""))


@dataclass(frozen=True)
class Pools:
    first_names: list[str]
    last_names: list[str]
    company_words: list[str]
    titles: list[str]
    cities: list[tuple[str, str, str]]  # (city, region, postal code)
    streets: list[str]
    sentences: list[str]
    phrases: list[str]
    industries: list[str]
    # fold() and slug() of every pooled string, so each row costs a dict lookup, not a regex
    folded: dict[str, str]
    slugs: dict[str, str]


def _unique(make, draws: int) -> list[str]:
    """Distinct values from ``draws`` calls (Faker weights common names, so some repeat)."""
    return [v for v in dict.fromkeys(make() for _ in range(draws)) if _slug(v)]


def make_pools(seed: int = 5) -> Pools:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    first = _unique(fake.first_name, 1500)
    last = _unique(fake.last_name, 2500)
    words = _unique(lambda: fake.word().title(), 1500) + last
    titles = _unique(fake.job, 400)
    cities = [(fake.city(), fake.state(), fake.postcode()) for _ in range(400)]
    streets = [fake.street_address() for _ in range(500)]
    sentences = [fake.paragraph(nb_sentences=3) for _ in range(600)]
    phrases = _unique(fake.catch_phrase, 800)
    industries = [
        "Software",
        "Manufacturing",
        "Retail",
        "Healthcare",
        "Finance",
        "Education",
        "Logistics",
        "Energy",
        "Media",
        "Construction",
        "Hospitality",
        "Agriculture",
    ]
    pooled = [*first, *last, *words, *titles, *phrases]
    folded = {s: fold(s) for s in pooled}
    slugs = {s: _slug(s) for s in pooled}
    return Pools(first, last, words, titles, cities, streets, sentences, phrases, industries, folded, slugs)


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: safe inside an email address or a domain."""
    return _slug(text)
