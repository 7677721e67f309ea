"""A record's values as a page shows them: each with its label, formatted for people (money with its
currency, dates in the user's zone, Yes/No, choices by label, a lookup or foreign key as a link to the
record when the user may open it, a user's name). The generic "facts" of a custom object type's page
are these, and the change history shows its values with the same function (``shown_value``)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.template.loader import select_template
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import mark_safe

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.audit.selectors import MASK
from crm.core import recordtypes
from crm.customization import secrets
from crm.customization.models import FieldType
from crm.customization.validation import definitions
from crm.web.templatetags.web import join_list, money, person, record_url, when

EMPTY = (None, "", [], {})
GENERIC = "web/facts/generic.html"


def facts_context(kind, obj, user) -> dict:
    """The templates of the record's facts (its type's own, else the generic one) and its values;
    the fields hidden from the user's role are blanked on ``obj`` (a display copy) and left out."""
    hidden = policy_for(user).hidden_fields(kind.object_type)
    if hidden:
        fieldrules.blank(kind.type, obj, hidden)
    # A custom type's slug never names a built-in's template (crm/objects/reserved.py), but its page
    # must not depend on that: only declared types have templates of their own.
    own = (lambda name: []) if kind.run_time else (lambda name: [f"web/facts/{kind.slug}{name}.html"])
    facts = select_template([*own(""), GENERIC])
    generic = facts.origin.template_name == GENERIC
    own_shown = own_rows(kind.type, obj, hidden, user) if generic and not kind.run_time else []
    custom = custom_rows(kind.type, obj, user)
    return {
        "facts_template": facts,
        "facts_sub_template": select_template([*own("_sub"), "web/facts/generic_sub.html"]),
        "own_values": [(label, value) for _, label, value in own_shown],
        "own_shown": own_shown,  # with each value's field name: what an inline edit names (crm/web/inline.py)
        "values": [(label, value) for _, label, value in custom],
        "custom_shown": [(f"cf_{key}", label, value) for key, label, value in custom],
    }


def own_values(rt, obj, hidden=frozenset(), user=None) -> list[tuple[str, str]]:
    """(label, shown value) of a declared type's own fields, for one without a facts template."""
    return [(label, value) for _, label, value in own_rows(rt, obj, hidden, user)]


def own_rows(rt, obj, hidden=frozenset(), user=None) -> list[tuple[str, str, str]]:
    """(field name, label, shown value) of a declared type's own fields."""
    out = []
    for f in rt.fields:
        if f.name in ("id", "owner", "created_at", "updated_at", "tag") or f.link or f.name in hidden:
            continue
        value = getattr(obj, f.name, None)
        shown = shown_value(rt, f.name, value, user, currency=getattr(obj, "currency", None))
        out.append((f.name, f.label or f.name, shown))
    return out


def shown_value(rt, name: str, value, user, *, currency=None):
    """One stored value of a record of type ``rt`` for people: what the record page shows and what the
    change history shows for its before and after (the log holds JSON: ISO dates, decimal strings,
    ids). ``name`` is a model field or its column (``owner_id``), a custom field's key, or ``links``."""
    if value == MASK:
        return MASK  # a field hidden from the reader's role (crm/audit/selectors.py)
    d = definitions(rt.object_type).get(name)
    field = None if d is not None else _model_field(rt.model, name)
    if field is None:
        if name == "links" and isinstance(value, list):
            shown_links = (MASK if v == MASK else _linked(*str(v).partition(":")[::2], user) for v in value)
            return _joined(shown_links) if value else "—"
        if value in EMPTY:
            return "—"
        return shown(d, value, _names({name: d} if d else {}, [(name, value)], user))
    if field.get_internal_type() == "BooleanField":
        return "Yes" if value else "No"
    if value in EMPTY:
        return "—"
    if field.many_to_one:
        return _related(field.related_model, value, user)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    kind = field.get_internal_type()
    if kind == "DecimalField":  # every decimal of a record is an amount of money
        return money(value, currency)
    if kind == "DateTimeField":
        return when(_datetime(value))
    if kind == "DateField":
        return when(_date(value))
    return join_list(value)


def _model_field(model, name: str):
    try:
        field = model._meta.get_field(name)
        return field if field.concrete else None  # a reverse relation (a price book's entries) has no column
    except FieldDoesNotExist:
        return next((f for f in model._meta.concrete_fields if f.attname == name), None)


def _related(model, pk, user):
    """A foreign key's target by name: a user, a stage or pipeline, or a record (linked when the
    reader may open it, else its "#id")."""
    pk = getattr(pk, "pk", pk)  # the related object itself, as a record page holds it
    if not isinstance(pk, int) or isinstance(pk, bool):
        return str(pk)
    object_type = getattr(model, "object_type", None)
    if object_type is not None:
        return _linked(object_type, pk, user)
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        return f"#{pk}"
    if model is get_user_model():
        return person(found)
    return getattr(found, "name", None) or str(found)  # a stage by its name, as the board shows it


def _linked(object_type: str, pk, user):
    qs = recordtypes.record_queryset(object_type, user) if user is not None else None
    try:
        found = qs.filter(pk=int(pk)).first() if qs is not None else None
    except (TypeError, ValueError):
        return str(pk)
    if found is None:
        return f"#{pk}"
    url = record_url(found)
    return format_html('<a href="{}">{}</a>', url, found) if url else str(found)


def _joined(parts):
    return format_html_join(", ", "{}", ((p,) for p in parts))


def _date(value):
    if isinstance(value, str):
        try:
            return parse_date(value) or value
        except ValueError:
            return value
    return value


def custom_values(rt, obj, user) -> list[tuple[str, str]]:
    """(label, shown value) of each custom field of the type in its order, then of any stored value
    whose definition is gone; a custom type's name field is the page's title, not repeated."""
    return [(label, value) for _, label, value in custom_rows(rt, obj, user)]


def custom_rows(rt, obj, user) -> list[tuple[str, str, str]]:
    """(key, label, shown value) of the custom values, as custom_values."""
    defs = definitions(rt.object_type)
    stored = secrets.reveal(obj.custom_fields)
    name_field = rt.extra["type"].name_field if rt.run_time else None
    hidden = policy_for(user).hidden_fields(rt.object_type)
    keys = [k for k in defs if k != name_field] + [k for k in stored if k not in defs]
    keys = [k for k in keys if fieldrules.custom_name(rt, k) not in hidden]
    names = _names(defs, [(k, stored.get(k)) for k in keys], user)
    out = []
    for key in keys:
        d, value = defs.get(key), stored.get(key)
        label = d.label if d else key.replace("_", " ").capitalize()
        out.append((key, label, "—" if value in EMPTY else shown(d, value, names)))
    return out


def attach_list_values(rt, rows: list, keys: list[str], user) -> None:
    """Each row gets ``shown_values``: {key: shown value} of the custom-field columns of a list, the
    users and linked records named in one query per target type for the whole page."""
    defs = definitions(rt.object_type)
    revealed = {id(row): secrets.reveal(row.custom_fields) for row in rows}
    pairs = [(k, revealed[id(row)].get(k)) for row in rows for k in keys]
    names = _names(defs, pairs, user)
    for row in rows:
        stored = revealed[id(row)]
        row.shown_values = {
            k: "—" if stored.get(k) in EMPTY else shown(defs.get(k), stored.get(k), names) for k in keys
        }


def _names(defs: dict, pairs: list[tuple[str, object]], user) -> dict:
    """Users and linked records named by the values, one query per target type: {(target, id): obj}.
    A linked record the user may not open is not among them."""
    wanted: dict[str, set[int]] = {}
    for key, value in pairs:
        d = defs.get(key)
        if d is None or not isinstance(value, int) or isinstance(value, bool):
            continue
        if d.field_type == FieldType.USER or (d.field_type == FieldType.LOOKUP and d.target == "user"):
            wanted.setdefault("user", set()).add(value)
        elif d.field_type == FieldType.LOOKUP:
            wanted.setdefault(d.target, set()).add(value)
    found = {}
    for target, ids in wanted.items():
        if target == "user":
            qs = get_user_model().objects.all()
        else:
            qs = recordtypes.record_queryset(target, user)
        for pk, row in (qs.in_bulk(sorted(ids)) if qs is not None else {}).items():
            found[(target, pk)] = row
    return found


def shown(d, value, names: dict):
    """One value for people (escaped; links and line breaks as HTML)."""
    t = d.field_type if d is not None else None
    if t == FieldType.BOOLEAN:
        return "Yes" if value else "No"
    if t == FieldType.MONEY and isinstance(value, dict):
        return money(value.get("amount"), value.get("currency"))
    if t == FieldType.DATE:
        return when(parse_date(str(value)) or value)
    if t == FieldType.DATETIME:
        return when(_datetime(value))
    if t == FieldType.USER or (t == FieldType.LOOKUP and d.target == "user"):
        found = names.get(("user", value))
        return person(found) if found else f"#{value}"
    if t == FieldType.LOOKUP:
        found = names.get((d.target, value))
        url = record_url(found) if found is not None else ""
        return format_html('<a href="{}">{}</a>', url, found) if url else (str(found) if found else f"#{value}")
    if t == FieldType.MULTI_CHOICE and isinstance(value, list):
        return format_html_join(" ", '<span class="tag">{}</span>', ((v,) for v in value))
    if t == FieldType.URL and str(value).startswith(("http://", "https://")):
        return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', value, value)
    if t == FieldType.EMAIL:
        return format_html('<a href="mailto:{}">{}</a>', value, value)
    if t == FieldType.PHONE:
        return format_html('<a href="tel:{}">{}</a>', value, value)
    if t == FieldType.LONG_TEXT:
        return mark_safe(linebreaks(str(value), autoescape=True))  # noqa: S308 - escaped by linebreaks
    return join_list(value)


def _datetime(value):
    if isinstance(value, dt.datetime):
        return value
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed or value
