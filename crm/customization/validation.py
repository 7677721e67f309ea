"""Custom field values: one function validates and coerces them on every write."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.dateparse import parse_date, parse_datetime

from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_email, normalize_phone
from crm.customization.models import CustomField, FieldType
from crm.customization.secrets import seal_values

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000


def definitions(object_type: str) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(object_type=object_type)}


# How the filter language (crm.core.filters) compares each type of field; other types compare as text.
FILTER_KINDS = {
    FieldType.INTEGER: "int",
    FieldType.DECIMAL: "decimal",
    FieldType.BOOLEAN: "bool",
    FieldType.USER: "int",
    FieldType.DATE: "date",
    FieldType.DATETIME: "str",
    FieldType.MULTI_CHOICE: "multi",
    FieldType.LOOKUP: "int",
    FieldType.MONEY: "money",  # compares the amount (crm.core.filters)
}


def filter_kinds(object_type: str) -> dict[str, str]:
    """{key: filter kind} of a type's custom fields; an encrypted one compares its keyed hash ("hashed")."""
    rows = CustomField.objects.filter(object_type=object_type).values_list("key", "field_type", "encrypted")
    return {key: "hashed" if encrypted else FILTER_KINDS.get(kind, "str") for key, kind, encrypted in rows}


def clean_custom_fields(
    object_type: str,
    values: dict | None,
    *,
    current: dict | None = None,
    defs: dict | None = None,
    actor=None,
    prefix: str = "custom_fields.",
) -> dict:
    """Merge ``values`` into ``current`` (None means a create) and return the validated dict.

    Unknown keys, wrong types and missing required values raise ValidationFailed with one
    message per field, keyed ``<prefix><key>`` (custom records name their fields bare: ``prefix=""``).
    Bulk callers pass ``defs`` (read once). Lookups must name a record ``actor`` sees.
    """
    defs = definitions(object_type) if defs is None else defs
    creating = current is None
    result = dict(current or {})
    errors: dict[str, str] = {}
    if values is not None and not isinstance(values, dict):
        raise ValidationFailed({"custom_fields": "Must be an object of field keys to values."})
    for key, raw in (values or {}).items():
        definition = defs.get(key)
        if definition is None:
            errors[f"{prefix}{key}"] = "Unknown custom field." if prefix else "Unknown field."
            continue
        try:
            result[key] = coerce(definition, raw, actor=actor)
        except (InvalidValue, ValueError, TypeError, decimal.InvalidOperation) as exc:
            errors[f"{prefix}{key}"] = str(exc) or "Invalid value."
    for key, definition in defs.items():
        if creating and key not in result and definition.default is not None:
            result[key] = definition.default
        if definition.required and result.get(key) in (None, "", []):
            errors.setdefault(f"{prefix}{key}", "This field is required.")
    if errors:
        raise ValidationFailed(errors)
    return seal_values(defs, {k: v for k, v in result.items() if k in defs}, current)


def _parsed(parse, raw):
    """A well-formed but impossible date (2024-02-30) is as invalid as a malformed one: None."""
    if not isinstance(raw, str):
        return None
    try:
        return parse(raw)
    except ValueError:
        return None


def coerce(definition: CustomField, raw, *, actor=None):
    """The stored JSON form of one value, or ValueError with a message for a person. A lookup names a
    record ``actor`` may see; with no actor (a preview of stored values), one that exists."""
    if raw is None or raw == "":
        return None
    kind = definition.field_type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        limit = TEXT_MAX if kind == FieldType.TEXT else LONG_TEXT_MAX
        if not isinstance(raw, str):
            raise ValueError("Must be text.")
        if len(raw) > limit:
            raise ValueError(f"At most {limit} characters.")
        return raw
    if kind == FieldType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("Must be a whole number.")
        try:
            value = int(raw)
        except ValueError:  # int()'s own message ("invalid literal ...") is not for people
            raise ValueError("Must be a whole number.") from None
        if not -(2**63) <= value < 2**63:  # what the databases can compare and sort as a number
            raise ValueError("The number is too large.")
        return value
    if kind == FieldType.DECIMAL:
        return _number(raw)
    if kind == FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"true", "false", "yes", "no", "1", "0"}:
            return raw.lower() in {"true", "yes", "1"}
        raise ValueError("Must be true or false.")
    if kind == FieldType.DATE:
        parsed = _parsed(parse_date, raw)
        if parsed is None:
            raise ValueError("Must be a date (YYYY-MM-DD).")
        return parsed.isoformat()
    if kind == FieldType.DATETIME:
        parsed = _parsed(parse_datetime, raw)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError("Must be a date-time with a time zone (ISO 8601).")
        return parsed.astimezone(dt.UTC).isoformat()
    if kind == FieldType.CHOICE:
        if raw not in definition.choices:
            raise ValueError(f"Must be one of: {', '.join(map(str, definition.choices))}.")
        return raw
    if kind == FieldType.MULTI_CHOICE:
        if not isinstance(raw, list) or any(v not in definition.choices for v in raw):
            raise ValueError(f"Must be a list drawn from: {', '.join(map(str, definition.choices))}.")
        return list(dict.fromkeys(raw))
    if kind == FieldType.URL:
        try:
            URLValidator(schemes=["http", "https"])(raw)
        except (ValidationError, TypeError):
            raise ValueError("Must be an http(s) URL.") from None
        return raw
    if kind == FieldType.EMAIL:
        if not isinstance(raw, str):
            raise ValueError("Must be an email address.")
        return normalize_email(raw)
    if kind == FieldType.USER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("Must be a user id.")
        if not get_user_model().objects.filter(pk=raw, is_active=True).exists():
            raise ValueError("No such active user.")
        return raw
    if kind == FieldType.PHONE:
        if not isinstance(raw, str):
            raise ValueError("Must be a phone number.")
        return normalize_phone(raw)
    if kind == FieldType.MONEY:
        return _money(raw)
    if kind == FieldType.LOOKUP:
        return _lookup(definition.target, raw, actor)
    raise ValueError(f"Unsupported field type {kind}.")


def _number(raw) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("Must be a number.")
    try:
        number = decimal.Decimal(str(raw).strip())
    except decimal.InvalidOperation:  # its message is "[<class 'decimal.ConversionSyntax'>]"
        raise ValueError("Must be a number.") from None
    # Stored as a JSON float: a value beyond its range would become inf, which JSON cannot hold.
    if not number.is_finite() or not math.isfinite(float(number)):
        raise ValueError("Must be a finite number.")
    # Nor is a number kept that the float would change (0.1 stays 0.1; 12345678901234567.89 would not):
    # up to 15 significant digits always come back as written.
    if decimal.Decimal(repr(float(number))) != number:
        raise ValueError("Too many digits to keep exactly: at most 15 significant digits.")
    return float(number)


CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MONEY_SHAPE = 'Must be {"amount": <number>, "currency": "<ISO code>"}.'


def _money(raw) -> dict:
    """An amount never travels without its currency: amounts in different currencies are not added."""
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise ValueError(MONEY_SHAPE)
    try:
        amount = _number(raw["amount"])
    except ValueError as exc:
        raise ValueError(f"The amount: {exc}") from None
    currency = raw["currency"]
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise ValueError("The currency must be a three-letter code such as EUR.")
    return {"amount": amount, "currency": currency.upper()}


def _lookup(target: str, raw, actor) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(f"Must be the id of a {target}.")
    if target == "user":
        qs = get_user_model().objects.filter(is_active=True)
    else:
        qs = recordtypes.record_queryset(target, actor, "view")
    # A record the actor may not see reads as missing: the message must not tell them it exists.
    if qs is None or not qs.filter(pk=raw).exists():
        raise ValueError(f"No {target} with id {raw}.")
    return raw
