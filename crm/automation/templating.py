"""Merge fields from a record, rendered by the one sandboxed engine (crm/core/templating.py).

A rule text or mail template names the record's fields at the top level (``{{name}}``, the
placeholders rules always had) or under its type (``{{ contact.first_name }}``), its custom fields as
``cf_<key>``, and ``{{record}}`` (its display name); mail adds the sender (crm/mail/merge.py). Values
are read only when a text names them, as plain values (money with its currency), never model
instances.

Rules run as the automation user, who sees every field; a text rendered FOR someone (a notification
to a user, a task for its assignee, an activity for its owner) is rendered with the field rules of
that reader's role: a placeholder of a field hidden from the reader is filled with nothing, so a
rule cannot carry a hidden value to someone who may not see it (crm.access.fieldrules).
"""

from __future__ import annotations

from decimal import Decimal

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes, templating
from crm.core.templating import Fields, Money
from crm.customization import secrets


def render(text: str, obj, reader=None, *, html: bool = False) -> str:
    """``text`` with its merge fields filled from ``obj``; with ``reader`` (a user), the fields hidden
    from the reader's role are empty."""
    return templating.render(text, record_context(obj, reader), html=html)


def record_context(obj, reader=None) -> dict:
    """The record's fields at the top level and under its type, and ``record``: its display name."""
    if obj is None:
        return {}
    values = record_values(obj, reader)
    fields = Fields(values)
    return {**values, "record": str(obj), obj.object_type: fields}


def record_values(obj, reader=None) -> dict:
    """{name: a function reading its value} for the record's concrete fields and custom fields."""
    hidden = _hidden_for(reader, obj)
    rt = recordtypes.by_type(obj.object_type)
    out: dict = {}
    for field in _concrete(obj):
        out[field.name] = _reader(obj, field, hidden, rt)
    custom = secrets.reveal(obj.custom_fields)  # encrypted values in clear: the text shows what the user may see
    for key in _custom_keys(obj):
        name = f"cf_{key}"
        blank = rt is not None and fieldrules.field_of(rt, name) in hidden
        out[name] = _constant("" if blank else custom.get(key, ""))
    return out


def record_names(object_type: str) -> dict:
    """What a text about a record of ``object_type`` may name (crm.core.templating.validate)."""
    rt = recordtypes.by_type(object_type)
    names: dict = {"record": None}
    if rt is None:
        return names
    fields = [f.name for f in rt.model._meta.concrete_fields if f.name != "custom_fields"]
    fields += [f"cf_{k}" for k in _defined_keys(object_type)]
    names.update(dict.fromkeys(fields))
    names[object_type] = fields
    return names


def _concrete(obj):
    return [f for f in obj._meta.concrete_fields if f.name != "custom_fields"]


def _custom_keys(obj) -> set[str]:
    return set(obj.custom_fields or {}) | set(_defined_keys(obj.object_type))


def _defined_keys(object_type: str) -> list[str]:
    from crm.customization.models import CustomField

    return list(CustomField.objects.filter(object_type=object_type).values_list("key", flat=True))


def _constant(value):
    return lambda: value


def _reader(obj, field, hidden, rt):
    def read():
        if hidden and rt is not None and fieldrules.field_of(rt, field.name) in hidden:
            return ""
        value = getattr(obj, field.name, "")
        if value is None:
            return ""
        if field.get_internal_type() == "DecimalField" and getattr(obj, "currency", ""):
            return Money(value, obj.currency)
        plain = isinstance(value, int | float | str | Decimal) or hasattr(value, "isoformat")
        return value if plain else str(value)  # a related record: its display name

    return read


def _hidden_for(reader, obj) -> frozenset[str]:
    object_type = getattr(obj, "object_type", "")
    if reader is None or not object_type:
        return frozenset()
    return policy_for(reader).hidden_fields(object_type)
