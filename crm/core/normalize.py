"""Data quality on write: one place that decides what a valid email, phone or domain is."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from email_validator import EmailNotValidError, validate_email

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class InvalidValue(ValueError):
    """A value that cannot be normalized; the message is fit to show a person."""


# An unquoted ASCII local part (RFC 5322 dot-atom): the shape nearly every address has.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def normalize_email(value: str) -> str:
    """Syntax-checked, lower-cased email (no DNS lookup: imports must not depend on the network)."""
    value = (value or "").strip()
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and _DOT_ATOM.match(local):
        # Only the domain needs email-validator's full rules, and an import's addresses share a few
        # hundred domains: check each domain once. The result is what validate_email gives.
        address = f"{local.lower()}@{_email_domain(domain)}"
        if len(address) <= 254:
            return address
    return _validated_email(value)


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    return _validated_email(f"a@{domain}").partition("@")[2]


def _validated_email(value: str) -> str:
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(f"Not a valid email address: {exc}") from None
    return info.normalized.lower()


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 form (+15551234567), reading numbers without a country code in DEFAULT_PHONE_REGION."""
    key = ((value or "").strip(), region or settings.DEFAULT_PHONE_REGION)
    if key not in _PHONES:
        if len(_PHONES) > 8192:  # bounded: an import's rows pass through twice (file, then service)
            _PHONES.clear()
            _NATIONAL.clear()
        number = _PHONES[key] = _phone(*key)
        _PHONES[(number, key[1])] = number  # normalizing a normalized number gives itself
    return _PHONES[key]


_PHONES: dict[tuple[str, str], str] = {}


def _phone(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"Not a phone number: {value!r}.") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue(f"Not a possible phone number: {value!r}.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    _NATIONAL[e164] = str(number.national_number)  # for phone_search_tokens right after a write
    return e164


_NATIONAL: dict[str, str] = {}


def phone_search_tokens(e164: str) -> list[str]:
    """Digit strings a person might type for this number: international and national forms."""
    digits = e164.lstrip("+")
    tokens = [digits]
    national = _NATIONAL.get(e164)
    if national is None:
        try:
            national = str(phonenumbers.parse(e164).national_number)
        except phonenumbers.NumberParseException:
            return tokens
    tokens.append(national)
    if len(national) > 7:
        tokens.append(national[-7:])  # the local part people often type alone
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


def has_nul(value) -> bool:
    """Whether text anywhere in ``value`` (nested lists and dicts too) holds NUL, which PostgreSQL
    refuses to store: inputs are checked for it, so it is a 422 naming the field, never a 500."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False
