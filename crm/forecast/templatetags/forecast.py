"""Small helpers of the quota grid: its cells' names, the value to show (posted or stored), errors."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def cell_names(kind: str, pk: int) -> dict:
    prefix = f"{kind}-{pk}"
    return {"amount": f"{prefix}-amount", "count": f"{prefix}-count", "rolls": f"{prefix}-rolls"}


@register.simple_tag
def posted(data, name: str, stored):
    """What the user typed after a refused save; else the stored value ("" for none)."""
    if data and name in data:
        return data[name]
    return "" if stored is None else stored


@register.simple_tag
def error_of(errors: dict, name: str):
    message = errors.get(name)
    return format_html('<span class="error">{}</span>', message) if message else ""


@register.filter
def figure(row: dict, key: str):
    """One figure of a forecast row by its column key."""
    return row.get(key)
