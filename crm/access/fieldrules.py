"""Field-level security: a role's rules per record type and field, and how every entry point reads them.

``Role.field_access`` is ``{object_type: {field: "hidden" | "read"}}``; a field with no rule is editable.
A field is named as the registry names it (crm.core.recordtypes): a declared type's ``RecordField.name``
("email", "amount", "owner"), a custom field on a declared type as ``cf_<key>``, a custom object type's
field by its key (its fields are RecordFields of that name). Admin roles and superusers have no rules.

The services refuse a write that sets a hidden or read-only field (``refuse_writes``); the API nulls a
hidden field's value (``mask``), the filters refuse it (crm.core.filters), the web pages and exports
leave it out. One key-to-field mapping (``field_of``) serves them all: the API's, the forms' and the
services' keys (``owner_id``, ``emails``, ``tags``, ``cf_budget``) fall under the registry field they
hold the value of.

The links of an activity or task (the records it is about) are one registry field per linked type
(``company``, ``contact``, ``lead``, ``deal``: crm/records/recordtypes.py LINKS); a rule on one governs
the links of that type. They travel in the ``links`` list (``{"type", "id"}`` in the API, ``"type:id"``
in the change log and webhooks) and in the ``<type>_id`` shorthands: a hidden type's entries are
dropped from the list (masked in the change log) and its shorthand nulled; a write that changes the
links of a hidden or read-only type is refused by the links service (``refuse_link_changes``), which
alone knows the links before and after (``links`` replaces them all).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from crm.core import recordtypes
from crm.core.errors import ValidationFailed

HIDDEN, READ = "hidden", "read"
RULES = (HIDDEN, READ)
# The record's identity: every page, link and search result names a record by these (its ``str()``),
# so a rule may make them read-only but not hide them. A contact's or a lead's name is made of its
# first and last name; a task is named by its title, an activity by its subject.
NEVER_HIDDEN = {"id", "name"}
NAME_PARTS = {
    "contact": {"first_name", "last_name"},
    "lead": {"first_name", "last_name"},
    "task": {"title"},
    "activity": {"subject"},
    "product": {"sku"},
}
HIDDEN_MESSAGE = "This field is hidden from your role: it cannot be set."
READ_MESSAGE = "This field is read-only for your role."


def restrictable(rt) -> dict[str, str]:
    """{field name: label} of the fields a rule may name on a type: its fields except the id (an
    activity's or task's link fields included: the links of that type), then its custom fields as
    ``cf_<key>``."""
    out = {f.name: f.label or f.name for f in rt.fields if f.name != "id"}
    if not rt.run_time:
        out |= {f"cf_{key}": f"cf_{key}" for key in recordtypes.custom_field_kinds(rt.object_type)}
    return out


def hideable(rt, name: str) -> bool:
    return name not in NEVER_HIDDEN and name not in NAME_PARTS.get(rt.object_type, ())


def check(value, kept=None) -> None:
    """``field_access`` of a role: an object of record types to {field: "hidden" | "read"}; unknown
    types, fields and rules are named in the error. ``kept``: the role's stored rules, whose entries
    pass as they are (a custom field deleted since must not block every later edit of the role)."""
    if value in (None, {}):
        return
    kept = kept if isinstance(kept, dict) else {}
    if not isinstance(value, dict):
        raise ValidationFailed({"field_access": 'Must be an object: {"contact": {"email": "hidden"}}.'})
    errors = []
    for object_type, rules in value.items():
        if isinstance(rules, dict) and rules.items() <= (kept.get(object_type) or {}).items():
            continue
        rt = recordtypes.by_type(object_type) if isinstance(object_type, str) else None
        if rt is None:
            errors.append(f"Unknown record type {object_type!r}.")
            continue
        if not isinstance(rules, dict):
            errors.append(f"The rules of {object_type} must be an object of field to 'hidden' or 'read'.")
            continue
        known = restrictable(rt)
        for name, rule in rules.items():
            if (kept.get(object_type) or {}).get(name) == rule:
                continue
            if name not in known:
                errors.append(f"{object_type} has no field {name!r} a rule may name; use {', '.join(known)}.")
            elif rule not in RULES:
                errors.append(f"{object_type}.{name}: the rule must be 'hidden' or 'read', not {rule!r}.")
            elif rule == HIDDEN and not hideable(rt, name):
                errors.append(f"{object_type}.{name} names the record: it may be read-only, not hidden.")
    if errors:
        raise ValidationFailed({"field_access": " ".join(errors)})


def frozen(value) -> dict[str, dict[str, str]]:
    """The rules as the policy keeps them (a copy: the role's JSON is not shared)."""
    if not isinstance(value, dict):
        return {}
    return {t: {n: r for n, r in rules.items() if r in RULES} for t, rules in value.items() if isinstance(rules, dict)}


# --- keys to fields --------------------------------------------------------------------------------


def aliases(rt) -> dict[str, str]:
    """Every key that holds a field's value, to the field's name: ``owner_id`` -> owner, ``emails`` ->
    email (a contact's list of addresses), ``tags`` -> tag, ``contacts`` -> contact (a deal's)."""
    out: dict[str, str] = {}
    for f in rt.fields:
        out.setdefault(f"{f.name}_id", f.name)  # a link field's shorthand: deal -> deal_id
        root = f.filter_lookup.split("__", 1)[0]
        if root != "custom_fields" and not f.link:  # a link's lookup is the link table's record_id
            out.setdefault(root, f.name)
    for f in rt.fields:
        out[f.name] = f.name
    return out


def field_of(rt, key: str, known: dict[str, str] | None = None) -> str | None:
    """The field a data, form, filter or output key holds (None: no field a rule may name).
    ``cf_<key>`` is a custom field; on a custom object type that is the field of that key."""
    if key.startswith("cf_"):
        return key[3:] if rt.run_time else key
    return (known if known is not None else aliases(rt)).get(key)


def custom_name(rt, key: str) -> str:
    """The rule name of a custom value's key (in ``custom_fields`` or a custom record's ``values``)."""
    return key if rt.run_time else f"cf_{key}"


# --- the links of activities and tasks --------------------------------------------------------

LINKS = "links"


def link_types(rt, names) -> frozenset[str]:
    """The linked types whose link field is among ``names`` (a role's hidden or read-only fields)."""
    return frozenset(f.link for f in rt.fields if f.link and f.name in names)


def _link_type(entry) -> str | None:
    if isinstance(entry, dict):
        return entry.get("type")
    return str(entry).partition(":")[0] if isinstance(entry, str) else None


def kept_links(value, types: frozenset[str], mask=None):
    """A ``links`` list without the entries of ``types`` (or each replaced by ``mask``)."""
    if not types or not isinstance(value, list):
        return value
    if mask is None:
        return [e for e in value if _link_type(e) not in types]
    return [mask if _link_type(e) in types else e for e in value]


def refuse_link_changes(policy, rt, before, after, given: dict) -> dict[str, str]:
    """{key: message} for each link of a hidden or read-only type that the write adds or removes
    (``before``/``after``: (type, id) pairs; ``given``: pair -> the data key that named it). Links
    kept as they were pass: ``links`` replaces them all, so sending them back is no change."""
    hidden = link_types(rt, policy.hidden_fields(rt.object_type))
    read = link_types(rt, policy.read_only_fields(rt.object_type))
    if not (hidden or read):
        return {}
    errors = {}
    for t, pk in set(before) ^ set(after):
        if t in hidden or t in read:
            key = given.get((t, pk), f"{t}_id" if f"{t}_id" in given.values() else LINKS)
            errors[key] = HIDDEN_MESSAGE if t in hidden else READ_MESSAGE
    return errors


# --- writes ----------------------------------------------------------------------------------------


def refuse_writes(policy, rt, data: dict) -> None:
    """ValidationFailed naming each key of ``data`` that sets a hidden or read-only field. Read-only is
    strict: an unchanged value sent again is refused too (the API's PATCH is partial, the web forms
    leave such fields out), so no write path has to compare values."""
    hidden, read = policy.hidden_fields(rt.object_type), policy.read_only_fields(rt.object_type)
    if not (hidden or read) or not isinstance(data, dict):
        return
    errors: dict[str, str] = {}

    def note(key: str, name: str | None) -> None:
        if name in hidden:
            errors[key] = HIDDEN_MESSAGE
        elif name in read:
            errors[key] = READ_MESSAGE

    known = aliases(rt)
    for key, value in data.items():
        if key == "custom_fields" and isinstance(value, dict):
            for k in value:
                note(f"custom_fields.{k}", custom_name(rt, k))
        else:
            note(key, field_of(rt, key, known))
    if errors:
        raise ValidationFailed(errors, "Your role may not set some of these fields.")


# --- reads -----------------------------------------------------------------------------------------


def mask(policy, rt, row: dict) -> dict:
    """``row`` (an API or export dict of one record) with each hidden field's value nulled, in place."""
    hidden = policy.hidden_fields(rt.object_type)
    if not hidden:
        return row
    known = aliases(rt)
    for key, value in row.items():
        if key in ("custom_fields", "values") and isinstance(value, dict):
            row[key] = {k: None if custom_name(rt, k) in hidden else v for k, v in value.items()}
        elif key == LINKS:
            row[key] = kept_links(value, link_types(rt, hidden))
        elif field_of(rt, key, known) in hidden:
            row[key] = None
    return row


def omit(policy, rt, row: dict) -> dict:
    """``row`` (a webhook payload's record, or its changes) without the keys of hidden fields: a feed
    leaves out what it may not carry where the API keeps the key with null. Custom values are a dict
    in a record and a ``[before, after]`` pair of dicts in changes; each loses its hidden keys."""
    hidden = policy.hidden_fields(rt.object_type)
    if not hidden or not isinstance(row, dict):
        return row

    def kept(values):
        if isinstance(values, list):
            return [kept(v) for v in values]
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if custom_name(rt, k) not in hidden}
        return values

    def links(value):  # a record's list of "type:id", or a change's [before, after] of such lists
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return [kept_links(v, types) for v in value]
        return kept_links(value, types)

    known, types = aliases(rt), link_types(rt, hidden)
    return {
        key: kept(value) if key in ("custom_fields", "values") else links(value) if key == LINKS else value
        for key, value in row.items()
        if key in ("custom_fields", "values", LINKS) or field_of(rt, key, known) not in hidden
    }


def blank(rt, obj, hidden: frozenset[str]) -> None:
    """Blank the values of the ``hidden`` fields on ``obj``, a display copy that is never saved (a
    record page, a vCard): whatever reads the record's attributes shows nothing there. Text becomes "",
    other values None, a to-many value (a contact's emails, the tags) an empty prefetched list; custom
    values are dropped."""
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if cache is None:
        cache = obj._prefetched_objects_cache = {}
    for key, name in aliases(rt).items():
        if name not in hidden:
            continue
        try:
            f = obj._meta.get_field(key)
        except FieldDoesNotExist:
            continue
        if f.many_to_many or f.one_to_many:
            cache[key] = f.related_model.objects.none()
        elif f.concrete and not f.primary_key:
            text = isinstance(f, models.CharField | models.TextField) and not f.null
            setattr(obj, f.name, "" if text else None)
    if getattr(obj, "custom_fields", None):
        obj.custom_fields = {k: v for k, v in obj.custom_fields.items() if custom_name(rt, k) not in hidden}


def mask_all(policy, rt, rows: list[dict]) -> list[dict]:
    if policy.hidden_fields(rt.object_type):
        for row in rows:
            mask(policy, rt, row)
    return rows


def maskable_keys(rt, names) -> list[str]:
    """Of an output schema's field ``names``, those a rule may hide (the schema lets them be null)."""
    known = aliases(rt)
    return [n for n in names if (f := field_of(rt, n, known)) is not None and hideable(rt, f)]


def allow_null(schema, keys) -> None:
    """Let the output schema's ``keys`` be null (still present: a hidden value is sent as null), once."""
    changed = False
    for key in keys:
        f = schema.model_fields.get(key)
        if f is not None and not _nullable(f.annotation):
            f.annotation = f.annotation | None
            changed = True
    if changed:
        schema.model_rebuild(force=True)


def _nullable(annotation) -> bool:
    return type(None) in getattr(annotation, "__args__", ())
