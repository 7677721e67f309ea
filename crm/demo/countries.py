"""Where the demo's customers are: country, Faker locale, sales region, currency, phone numbers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import phonenumbers

# NANP numbers 555-0100..0199 are reserved for fiction in every area code.
_US_AREAS = ("201", "206", "212", "213", "303", "305", "312", "404", "415", "512", "617", "646", "702", "713", "919")
_CA_AREAS = ("403", "416", "514", "604", "613", "780", "902", "905")


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2, also the phone region
    name: str
    locale: str  # the Faker locale for people, streets and cities
    region: str  # the value of the company custom field "region"
    currency: str
    weight: int
    # Phone templates, "#" a random digit. Where a country reserves numbers for fiction, only those
    # are used, so nobody real is ever dialled from the demo; elsewhere numbers are random but valid.
    phones: tuple[str, ...] = ()


COUNTRIES = (
    Country("US", "United States", "en_US", "AMER", "USD", 38, tuple(f"+1{a}55501##" for a in _US_AREAS)),
    Country("CA", "Canada", "en_CA", "AMER", "CAD", 6, tuple(f"+1{a}55501##" for a in _CA_AREAS)),
    Country("BR", "Brazil", "pt_BR", "AMER", "BRL", 4),
    Country("GB", "United Kingdom", "en_GB", "EMEA", "GBP", 12, ("+442079460###", "+441134960###", "+441614960###")),
    Country("DE", "Germany", "de_DE", "EMEA", "EUR", 10),
    Country("FR", "France", "fr_FR", "EMEA", "EUR", 6),
    Country("NL", "Netherlands", "nl_NL", "EMEA", "EUR", 4),
    Country("ES", "Spain", "es_ES", "EMEA", "EUR", 3),
    Country("SE", "Sweden", "sv_SE", "EMEA", "SEK", 2),
    Country("AU", "Australia", "en_AU", "APAC", "AUD", 7, ("+61491570###", "+6125550####", "+6135550####")),
    Country("IN", "India", "en_IN", "APAC", "INR", 5),
    Country("NZ", "New Zealand", "en_NZ", "APAC", "NZD", 3),
)
WEIGHTS = tuple(c.weight for c in COUNTRIES)
LOCALES = tuple(dict.fromkeys(c.locale for c in COUNTRIES))


@cache
def _example_templates(code: str) -> tuple[str, ...]:
    """Templates from libphonenumber's example numbers: keep the operator prefix, randomize the rest."""
    templates = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(code, kind)
        national = str(example.national_number)
        templates.append(f"+{example.country_code}{national[:3]}{'#' * (len(national) - 3)}")
    return tuple(templates)


def phone_number(rng: random.Random, country: Country) -> str:
    """A valid E.164 number in the country (phonenumbers accepts it, as the services require)."""
    templates = country.phones or _example_templates(country.code)
    for _ in range(20):
        template = rng.choice(templates)
        candidate = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in template)
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    example = phonenumbers.example_number_for_type(country.code, phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
