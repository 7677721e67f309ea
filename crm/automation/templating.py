"""``{{field}}`` placeholders in rule texts, filled from the record (no code, no attribute walks).

Rules run as the automation user, who sees every field; a text rendered FOR someone (a notification
to a user, a task for its assignee, an activity for its owner) is rendered with the field rules of
that reader's role: a placeholder of a field hidden from the reader is filled with nothing, so a
rule cannot carry a hidden value to someone who may not see it (crm.access.fieldrules).
"""

from __future__ import annotations

import re

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def render(text: str, obj, reader=None) -> str:
    """``text`` with its placeholders filled from ``obj``; with ``reader`` (a user), the fields hidden
    from the reader's role are empty."""
    hidden = _hidden_for(reader, obj)

    def value(match):
        name = match.group(1)
        if name == "record":
            return str(obj)
        if hidden and _field(obj, name) in hidden:
            return ""
        if name.startswith("cf_"):
            return str((obj.custom_fields or {}).get(name[3:], ""))
        try:
            field = obj._meta.get_field(name)
        except Exception:
            return match.group(0)
        if not field.concrete:
            return match.group(0)
        v = getattr(obj, name, "")
        return "" if v is None else str(v)

    return PLACEHOLDER.sub(value, text or "")


def _hidden_for(reader, obj) -> frozenset[str]:
    object_type = getattr(obj, "object_type", "")
    if reader is None or not object_type:
        return frozenset()
    return policy_for(reader).hidden_fields(object_type)


def _field(obj, name: str) -> str | None:
    rt = recordtypes.by_type(obj.object_type)
    return fieldrules.field_of(rt, name) if rt is not None else None
