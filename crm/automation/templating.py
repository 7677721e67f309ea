"""``{{field}}`` placeholders in rule texts, filled from the record (no code, no attribute walks)."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def render(text: str, obj) -> str:
    def value(match):
        name = match.group(1)
        if name == "record":
            return str(obj)
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
