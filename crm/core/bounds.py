"""A number's declared bounds (``RecordField.min_value`` / ``max_value``): one check the record
services run on every write (web, API, import, automation), so -5 of annual revenue is a field
error wherever it comes from. The web forms render the same bounds as min/max attributes."""

from __future__ import annotations

import decimal

from crm.core import recordtypes


def bounded_fields(rt) -> list:
    return [f for f in rt.fields if f.min_value is not None or f.max_value is not None]


def message(f) -> str:
    if f.min_value is not None and f.max_value is not None:
        return f"Must be between {f.min_value} and {f.max_value}."
    if f.min_value is not None:
        return f"Must be {f.min_value} or more."
    return f"Must be {f.max_value} or less."


def out_of_bounds(obj, skip=()) -> dict[str, str]:
    """{field: message} for each declared number of ``obj`` outside its bounds (empty values pass;
    fields in ``skip`` already have an error of their own)."""
    rt = recordtypes.of(obj)
    errors = {}
    for f in bounded_fields(rt) if rt is not None else ():
        value = getattr(obj, f.name, None)
        if f.name in skip or value in (None, "") or isinstance(value, bool):
            continue
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            continue  # not a number: the model's own validation says so
        low = f.min_value is not None and number < f.min_value
        if low or (f.max_value is not None and number > f.max_value):
            errors[f.name] = message(f)
    return errors
