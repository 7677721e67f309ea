"""A file cell of a custom field (a ``cf_<key>`` column, or any field of a custom object type) read into
the value the custom-field validation takes (crm.customization.validation.coerce), by the field's type:
spreadsheets write "1,234.50 EUR", "Yes", "03/04/2025", "red; blue" or a linked record's name, while
the API takes {"amount": ..., "currency": ...}, true, "2025-03-04", ["red", "blue"] or an id.

The service still validates the result (lengths, ranges, lookups the user sees), so a value this
module lets through can still be a row error; a cell it cannot read is a row error naming the column.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import FieldError

from crm.core import recordtypes
from crm.customization.models import CustomField, FieldType
from crm.dataio import dates

CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
TRUE = {"true", "yes", "y", "1", "x", "on"}
FALSE = {"false", "no", "n", "0", "off"}
# "1,234.50 EUR", "EUR 1234.5", "€12", "12 €": a currency (a code or a sign) before or after the amount.
CODE = r"[A-Za-z]{3}|[$€£¥]"
MONEY = re.compile(rf"^\s*(?P<pre>{CODE})?\s*(?P<amount>[-+]?[\d\s,.']+)\s*(?P<post>{CODE})?\s*$")


def cell_value(definition: CustomField, text: str, importer):
    """The value of one non-empty cell; ValueError with a message for a person when it cannot be read.
    ``importer`` resolves users and linked records (cached per run)."""
    kind = definition.field_type
    if kind == FieldType.INTEGER:
        return _plain_number(text)
    if kind == FieldType.DECIMAL:
        return _plain_number(text)
    if kind == FieldType.BOOLEAN:
        return _boolean(text)
    if kind == FieldType.DATE:
        return dates.parse_date(text).isoformat()
    if kind == FieldType.DATETIME:
        return dates.parse_datetime(text).isoformat()
    if kind == FieldType.CHOICE:
        return _choice(definition, text)
    if kind == FieldType.MULTI_CHOICE:
        return [_choice(definition, part.strip()) for part in re.split(r"[;,|]", text) if part.strip()]
    if kind == FieldType.MONEY:
        return money(text)
    if kind == FieldType.USER:
        return importer.owner(text)
    if kind == FieldType.LOOKUP:
        return importer.linked_record(definition.target, text)
    return text  # text, long text, URL, email, phone: the validation normalizes them


def _plain_number(text: str) -> str:
    """Thousands separators as spreadsheets write them ("1,234", "1 234") dropped; the validation reads the rest."""
    return re.sub(r"[\s,']", "", text)


def _boolean(text: str) -> bool:
    low = text.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no.")


def _choice(definition: CustomField, text: str) -> str:
    for stored in definition.choices:
        if str(stored).lower() == text.lower():
            return stored
    raise ValueError(f"{text!r} is not one of: {', '.join(map(str, definition.choices))}.")


def money(text: str) -> dict:
    """An amount with its currency; a cell without one is in the default currency (settings.DEFAULT_CURRENCY)."""
    match = MONEY.match(text)
    if match is None or (match["pre"] and match["post"]):
        raise ValueError(f"{text!r} is not an amount (e.g. 1,234.50 EUR).")
    sign = match["pre"] or match["post"] or settings.DEFAULT_CURRENCY
    currency = CURRENCY_SIGNS.get(sign, sign).upper()
    return {"amount": _plain_number(match["amount"]), "currency": currency}


def find_linked(actor, target: str, text: str) -> int | str:
    """The id of the ``target`` record a cell names: its id, or its name among the records ``actor``
    sees (exactly one); else a message saying why there is none."""
    rt = recordtypes.by_type(target)
    if rt is None:
        return f"Cannot link to {target!r}."
    visible = rt.restricted(actor)
    if text.isdigit():
        return int(text) if visible.filter(pk=int(text)).exists() else f"No {rt.singular} with id {text}."
    name_field = rt.search.name_field if rt.search else "name"
    try:
        ids = list(visible.filter(**{f"{name_field}__iexact": text}).order_by("pk").values_list("pk", flat=True)[:2])
    except FieldError:  # a type without a name column: only ids link to it
        return f"Give the id of the {rt.singular}, not {text!r}."
    if not ids:
        return f"No {rt.singular} named {text!r}."
    if len(ids) > 1:
        return f"More than one {rt.singular} named {text!r}: give its id instead."
    return ids[0]
