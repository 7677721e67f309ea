"""Formatting shared by the pages: money with its currency, list cells, record links, permissions."""

from __future__ import annotations

import datetime as dt
import decimal

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.formats import date_format
from django.utils.html import format_html

from crm.access.policy import policy_for
from crm.customization import secrets
from crm.web.registry import slug_of_type

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(amount, currency=None) -> str:
    """12000 and "EUR" -> "€12,000"; cents are shown only when there are any."""
    if amount in (None, ""):
        return "—"
    currency = (currency or settings.DEFAULT_CURRENCY).upper()
    value = decimal.Decimal(amount)
    text = f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def when(value) -> str:
    """A date or time in the user's zone, short: "Mar 4, 14:05" this year, else with the year."""
    if value in (None, ""):
        return "—"
    if isinstance(value, dt.datetime):
        # date_format(local, "M j, H:i" or "M j Y, H:i") spelt out: a timeline calls this 50 times a page
        # and date_format's format lookups cost more than the formatting (tests/web/test_timeline_entry_html.py).
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        year = "" if local.year == timezone.localdate().year else f" {local.year:04d}"
        return f"{MONTHS_3[local.month].title()} {local.day}{year}, {local.hour:02d}:{local.minute:02d}"
    if isinstance(value, dt.date):
        return date_format(value, "M j" if value.year == timezone.localdate().year else "M j, Y")
    return str(value)


def _path_url(obj) -> str | None:
    slug = slug_of_type(getattr(obj, "object_type", ""))
    return reverse("web:record-detail", args=[slug, obj.pk]) if slug else None


@register.simple_tag
def record_url(obj) -> str:
    return _path_url(obj) or ""


@register.simple_tag
def url_of(object_type: str, pk) -> str:
    slug = slug_of_type(object_type)
    return reverse("web:record-detail", args=[slug, pk]) if slug else ""


@register.simple_tag
def cell(obj, column, first=False):
    """One list cell: the first links to the record; related records link, money, dates, choice labels."""
    key = column.key
    if key.startswith("cf_"):
        if hasattr(obj, "shown_values"):  # formatted by the list view (crm.web.facts)
            return obj.shown_values.get(key[3:], "—")
        value = secrets.reveal(obj.custom_fields).get(key[3:])
        return "—" if value in (None, "", []) else join_list(value)
    value = getattr(obj, key, None)
    if first:
        return format_html('<a href="{}">{}</a>', _path_url(obj), value or str(obj))
    if key == "amount":
        return money(value, getattr(obj, "currency", None))
    if hasattr(value, "object_type"):
        return format_html('<a href="{}">{}</a>', _path_url(value), value)
    if hasattr(value, "get_username"):
        return value.get_full_name() or value.get_username()
    if isinstance(value, dt.date | dt.datetime):
        return when(value)
    display = getattr(obj, f"get_{key}_display", None)
    if display is not None and value:
        return display()
    return "—" if value in (None, "") else value


@register.filter
def person(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


@register.simple_tag(takes_context=True)
def can(context, object_type: str, action: str) -> bool:
    return policy_for(context["request"].user).allows(object_type, action)


@register.filter
def starts_with(text, prefix) -> bool:
    return str(text).startswith(str(prefix))


@register.simple_tag(takes_context=True)
def menu_kinds(context) -> list:
    """The record types of the main menu (with pages, not archived, viewable by the user)."""
    from crm.web.registry import menu_kinds as kinds

    return kinds(policy_for(context["request"].user))


@register.simple_tag(takes_context=True)
def is_admin(context) -> bool:
    """Admins (superusers and admin roles) get the settings pages in their menu."""
    return policy_for(context["request"].user).is_admin


@register.simple_tag(takes_context=True)
def may_import_any(context) -> bool:
    from crm.web.registry import may_import_any as may

    return may(policy_for(context["request"].user))


@register.filter
def label(value: str) -> str:
    """choice values to words: "in_progress" -> "In progress"."""
    return str(value or "").replace("_", " ").capitalize()


@register.filter
def overdue(task) -> bool:
    return bool(task.due_at and task.due_at < timezone.now() and task.status in ("open", "in_progress"))


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


SHOWN_PARAMS = {"q", "sort", "tag", "owner", "assignee"}


@register.filter
def hidden_params(params, columns) -> list[tuple[str, str]]:
    """Filters of the query string that no visible control holds (a saved view's status__in, ...),
    kept as hidden inputs so changing another filter does not drop them."""
    shown = SHOWN_PARAMS | {c.filter for c in columns if c.filter}
    return [(k, v) for k, values in params.lists() for v in values if k not in shown]


@register.filter
def join_list(value) -> str:
    """A custom field's value as text: a list joined, an amount with its currency."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return money(value["amount"], value["currency"])
    return str(value)


@register.filter
def task_links(task, user) -> list[dict]:
    """The records a task is linked to that the user may see."""
    from crm.records.selectors import attach_linked

    attach_linked([task], user)
    return [{"label": type(r)._meta.verbose_name.capitalize(), "obj": r} for r in task.linked]


TIMELINE_LABELS = {"all": "All", "note": "Notes", "call": "Calls", "meeting": "Meetings", "email": "Emails"}
TIMELINE_LABELS |= {"task": "Tasks", "change": "Changes"}


@register.filter
def timeline_filter_label(key: str) -> str:
    return TIMELINE_LABELS.get(key, key)


@register.filter
def activity_icon(kind: str) -> str:
    return {"note": "✎", "call": "☎", "meeting": "◷", "email": "✉"}.get(kind, "•")


@register.filter
def field_label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ")


@register.filter
def short_value(value) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


@register.filter
def change_rows(changes) -> list[tuple[str, object, object]]:
    """A change log entry's changes as (field, before, after), one per custom field rather than the
    whole custom_fields object (a custom record's values are all there)."""
    rows = []
    for name, pair in (changes or {}).items():
        before, after = (list(pair) + [None, None])[:2]
        if name == "custom_fields" and isinstance(before or {}, dict) and isinstance(after or {}, dict):
            before, after = before or {}, after or {}
            keys = sorted(k for k in before.keys() | after.keys() if k not in changes)  # a copied name once
            rows += [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
        else:
            rows.append((name, before, after))
    return rows


@register.simple_tag(takes_context=True)
def change_value(context, entry, field: str, value) -> str:
    """A change log value for people, as the record page shows it (crm.web.facts.shown_value): dates
    and times in the user's zone, choice labels, money with its currency, Yes/No, users, stages and
    related records by name (linked only when the user may open them, else "#id")."""
    from crm.core import recordtypes
    from crm.web.facts import shown_value

    rt = recordtypes.by_type(getattr(entry, "object_type", ""))
    if rt is None:
        return short_value(join_list(value) if isinstance(value, dict | list) else value)
    currency = _currency(context, entry, rt)
    cache = context.render_context.setdefault("change_names", {})
    key = (rt.object_type, field, repr(value), currency)
    if key not in cache:
        shown = shown_value(rt, field, value, context["request"].user, currency=currency)
        cache[key] = shown if hasattr(shown, "__html__") else short_value(shown)
    return cache[key]


def _currency(context, entry, rt) -> str | None:
    """The currency of the record's amounts: the one the entry itself sets, else the record's now."""
    pair = (entry.changes or {}).get("currency")
    if isinstance(pair, list) and pair and pair[-1]:
        return pair[-1]
    if not any(f.attname == "currency" for f in rt.model._meta.concrete_fields):
        return None
    cache = context.render_context.setdefault("change_currencies", {})
    key = (rt.object_type, entry.object_id)
    if key not in cache:
        cache[key] = rt.objects().filter(pk=entry.object_id).values_list("currency", flat=True).first()
    return cache[key]


@register.filter
def importable(list_slug: str) -> bool:
    """Whether records of this list can be imported from a file (the type's importer, crm.dataio.importers)."""
    from crm.dataio.importers import can_import

    return can_import(list_slug)
