"""Data quality on write: one place that decides what a valid email, phone or domain is."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from email_validator import EmailNotValidError, validate_email

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class InvalidValue(ValueError):
    """A value that cannot be normalized; the message is fit to show a person."""


def normalize_email(value: str) -> str:
    """Syntax-checked, lower-cased email (no DNS lookup: imports must not depend on the network)."""
    value = (value or "").strip()
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(f"Not a valid email address: {exc}") from None
    return info.normalized.lower()


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 form (+15551234567), reading numbers without a country code in DEFAULT_PHONE_REGION."""
    value = (value or "").strip()
    try:
        number = phonenumbers.parse(value, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"Not a phone number: {value!r}.") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue(f"Not a possible phone number: {value!r}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_tokens(e164: str) -> list[str]:
    """Digit strings a person might type for this number: international and national forms."""
    digits = e164.lstrip("+")
    tokens = [digits]
    try:
        number = phonenumbers.parse(e164)
        national = str(number.national_number)
        tokens.append(national)
        if len(national) > 7:
            tokens.append(national[-7:])  # the local part people often type alone
    except phonenumbers.NumberParseException:
        pass
    return tokens


def normalize_domain(value: str) -> str:
    """Bare lower-case host name: 'https://www.Acme.com/about' -> 'acme.com'."""
    raw = (value or "").strip().lower()
    if "@" in raw:
        raw = raw.rsplit("@", 1)[1]
    try:
        host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
    except ValueError:  # e.g. "http://[bad": an unterminated IPv6 literal
        raise InvalidValue(f"Not a valid domain: {value!r}.") from None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidValue(f"Not a valid domain: {value!r}.") from None
    if not _DOMAIN_RE.match(host):
        raise InvalidValue(f"Not a valid domain: {value!r}.")
    return host
