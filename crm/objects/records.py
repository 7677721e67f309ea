"""Writes of custom records. Each service checks the actor's role for the record's type itself,
validates the values with the custom-field validation (types, required, lookups the actor sees) plus
the type's unique fields, refuses writes to an archived type, bumps the version (409 on a stale one),
checks the actor still sees the result, and writes the change log, all in one transaction.

``data`` is flat: a value per field key, plus ``owner_id``. Like the built-in services they keep the
search index current (types with searchable fields), remove a deleted record's links from activities
and tasks, and emit ``record.created/updated/deleted``, so rules and webhooks fire on custom types.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.fields.json import KeyTransform

from crm.access.policy import policy_for
from crm.audit import changelog
from crm.core import events
from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.customization.validation import clean_custom_fields, definitions
from crm.objects import registry
from crm.objects.models import CustomRecord, ObjectType
from crm.objects.selectors import records_of
from crm.privacy import blocklist
from crm.records.services import links
from crm.records.services.common import (
    Saved,
    guard_fields,
    lock_for_update,
    raise_if,
    resolve_user,
    save_existing,
    save_new,
)
from crm.search import index as search_index

EMPTY = (None, "", [])


def record_create(*, actor, object_type: ObjectType, data: dict) -> Saved:
    with transaction.atomic():
        object_type, defs = _writable(object_type, actor, "add")
        data, errors = _data(data)
        guard_fields(actor, object_type.key, data)  # the role's field rules (crm/access/fieldrules.py)
        record = CustomRecord(type=object_type, owner=actor if actor is not None and actor.pk else None)
        _assign(record, data, defs, actor, errors, creating=True)
        blocklist.refuse_record(record, registry.person_spec(list(defs.values())))
        save_new(record, actor=actor)
        _ensure_visible(record, actor)
        search_index.update(record)
        entry = changelog.log_create(actor, record)
        events.emit("record.created", record, actor=actor, changes=entry.changes)
        return Saved(record)


def record_update(obj: CustomRecord, *, actor, data: dict, version: int | None = None) -> Saved:
    with transaction.atomic():
        object_type, defs = _writable(obj.type, actor, "change")
        record = _locked(obj, object_type, actor, "change", version)
        data, errors = _data(data)
        guard_fields(actor, object_type.key, data)
        before = changelog.snapshot(record)
        person = registry.person_spec(list(defs.values()))
        held = blocklist.record_values(record, person)
        _assign(record, data, defs, actor, errors, creating=False)
        blocklist.refuse_record(record, person, held=held)
        save_existing(record)
        _ensure_visible(record, actor)
        search_index.update(record)
        entry = changelog.log_update(actor, record, before)
        if entry is not None:  # nothing changed: no event, as for the built-in types
            events.emit("record.updated", record, actor=actor, changes=entry.changes)
        return Saved(record)


def record_delete(obj: CustomRecord, *, actor, version: int | None = None) -> None:
    with transaction.atomic():
        object_type, _defs = _writable(obj.type, actor, "delete")
        record = _locked(obj, object_type, actor, "delete", version)
        pk = record.pk
        search_index.remove(record)
        entry = changelog.log_delete(actor, record, changelog.snapshot(record))
        links.unlink(object_type.key, [pk])
        record.delete()
        record.pk = pk  # the event names the record it was
        events.emit("record.deleted", record, actor=actor, changes=entry.changes)


def _writable(object_type: ObjectType, actor, action: str) -> tuple[ObjectType, dict]:
    """The type as stored now, if the actor may ``action`` its records and it is not archived. With
    unique fields its row stays locked until the write commits, so two writes cannot both find a value
    free (SQLite's write transactions are serialized anyway)."""
    if not policy_for(actor).allows(object_type.key, action):
        raise PermissionDenied(f"You may not {action} {object_type.plural.lower()}.")
    defs = definitions(object_type.key)
    qs = ObjectType.objects.select_for_update() if any(d.unique for d in defs.values()) else ObjectType.objects
    fresh = qs.get(pk=object_type.pk)
    if fresh.archived:
        raise Conflict(f"{fresh.plural} are archived: their records cannot change.", code="archived")
    return fresh, defs


def _locked(obj: CustomRecord, object_type: ObjectType, actor, action: str, version: int | None) -> CustomRecord:
    """404 when the actor cannot see the record, 403 when they see it but may not ``action`` it."""
    if not records_of(object_type, actor, action).filter(pk=obj.pk).exists():
        if records_of(object_type, actor, "view").filter(pk=obj.pk).exists():
            raise PermissionDenied(f"You may not {action} this {object_type.singular.lower()}.")
        raise NotFound(f"No {object_type.singular.lower()} with id {obj.pk}.")
    fresh = lock_for_update(obj, version=version)
    fresh.type = object_type
    return fresh


def _data(data) -> tuple[dict, dict]:
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "Must be an object of field keys to values."})
    return dict(data), {}


def _assign(record: CustomRecord, data: dict, defs: dict, actor, errors: dict, *, creating: bool) -> None:
    """Owner, values and the name copied from the name field; every problem reported at once."""
    if "owner_id" in data:
        resolve_user(data, "owner", errors)
        record.owner = data.pop("owner")
    try:
        record.custom_fields = clean_custom_fields(
            record.type.key,
            data,
            current=None if creating else record.custom_fields,
            defs=defs,
            actor=actor,
            prefix="",
        )
    except ValidationFailed as exc:
        errors |= exc.fields
    raise_if(errors)
    raise_if(_duplicates(record, defs))
    record.name = record.custom_fields.get(record.type.name_field) or ""


def _duplicates(record: CustomRecord, defs: dict) -> dict[str, str]:
    errors = {}
    others = CustomRecord.objects.filter(type=record.type).exclude(pk=record.pk)
    for key, definition in defs.items():
        value = record.custom_fields.get(key)
        if not definition.unique or value in EMPTY:
            continue
        # KeyTransform, not custom_fields__<key>: a key such as "contains" would read as a lookup.
        if others.alias(held=KeyTransform(key, "custom_fields")).filter(held=value).exists():
            errors[key] = f"Another {record.type.singular.lower()} already has {value!r}."
    return errors


def _ensure_visible(record: CustomRecord, actor) -> None:
    """The actor must still see what they saved (an own-scope user giving it away): else roll back."""
    if not records_of(record.type, actor, "view").filter(pk=record.pk).exists():
        raise PermissionDenied("You may not save a record you would not be able to see (check the owner).")
