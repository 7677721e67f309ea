"""The change log, written explicitly by services (bulk paths included), never by signals."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from functools import cache

from django.db import models

from crm.audit.models import Action, ObjectChange
from crm.core import clock, context, rawinsert

SKIPPED = {"version", "updated_at", "created_at"}


def _jsonable(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _stored_form(field, value):
    """The value as the database holds it, so sending it again in another form is not a change:
    a decimal at its column's scale (1000 is 1000.00), an aware time in UTC (12:00+02:00 is 10:00Z)."""
    if isinstance(field, models.DecimalField) and value is not None:
        try:
            return decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
        except (decimal.InvalidOperation, TypeError, ValueError):
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def snapshot(obj: models.Model, extra: dict | None = None) -> dict:
    """A JSON-safe picture of a record: its own fields, plus what its ``extra_snapshot`` adds
    (or ``extra``, from a bulk path that knows it without asking the database)."""
    data = {}
    for field, attname, decimal_field in _fields(type(obj)):
        value = getattr(obj, attname)
        plain = type(value) in PLAIN and not decimal_field
        data[attname] = value if plain else _jsonable(_stored_form(field, value))
    if extra is None:
        extra = obj.extra_snapshot() if hasattr(obj, "extra_snapshot") else {}
    data.update({k: _jsonable(v) for k, v in extra.items()})
    return data


# Values stored and shown as they are (but a number in a decimal column, kept at the column's scale):
# snapshot skips the conversions for them, a few microseconds a record on a bulk import.
PLAIN = {str, int, bool, type(None), dict, list}


@cache
def _fields(model) -> list[tuple[models.Field, str, bool]]:
    # A model lists in ``change_log_hidden`` what must never be copied into the log (a signing secret).
    skipped = SKIPPED | set(getattr(model, "change_log_hidden", ()))
    return [
        (f, f.attname, isinstance(f, models.DecimalField))
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in skipped
    ]


def diff(before: dict, after: dict) -> dict:
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def type_of(obj) -> str:
    """The change log's object_type of ``obj``: a record's type, or what an object that is not a record
    (a role, a pipeline...) calls itself; a custom field's own ``object_type`` is the type it extends."""
    return getattr(obj, "change_log_type", None) or obj.object_type


def _entry(actor, obj, action: str, changes: dict) -> ObjectChange:
    return ObjectChange(
        user=actor if actor is not None and actor.pk else None,
        user_name=getattr(actor, "username", "") or "",
        action=action,
        object_type=type_of(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:255],
        changes=changes,
        request_id=context.request_id(),
        source=context.source(),
        time=clock.now(),
    )


def _save(entry: ObjectChange) -> ObjectChange:
    entry.save(force_insert=True)
    return entry


EMPTY = (None, "", [], {})


def created(data: dict) -> dict:
    """A new record's changes: diff({}, data) without its empty values."""
    return {k: [None, v] for k in sorted(data) if (v := data[k]) or _kept_falsy(v)}


def _kept_falsy(value) -> bool:
    """False and 0 are values; None, "", [] and {} are empty (EMPTY)."""
    return value is not None and not isinstance(value, str | list | dict)


def log_create(actor, obj) -> ObjectChange:
    return _save(_entry(actor, obj, Action.CREATE, created(snapshot(obj))))


def log_update(actor, obj, before: dict) -> ObjectChange | None:
    changes = diff(before, snapshot(obj))
    if not changes:
        return None
    return _save(_entry(actor, obj, Action.UPDATE, changes))


def log_delete(actor, obj, before: dict) -> ObjectChange:
    return _save(_entry(actor, obj, Action.DELETE, diff(before, {})))


def log_event(actor, obj, action: str, changes: dict) -> ObjectChange:
    return _save(_entry(actor, obj, action, changes))


def log_bulk_create(actor, objs: Iterable[models.Model], extras: list[dict] | None = None) -> list[dict]:
    """The change log of a bulk insert, written in one statement (imports, demo data); returns each
    record's changes. ``extras``: each record's ``extra_snapshot`` when the caller has it (saves a
    query per record)."""
    objs = list(objs)
    extras = extras if extras is not None else [None] * len(objs)
    changes = [created(snapshot(o, e)) for o, e in zip(objs, extras, strict=True)]
    _insert(actor, Action.CREATE, objs, changes)
    return changes


def _insert(actor, action: str, objs: list[models.Model], changes: list[dict]) -> None:
    user_id = actor.pk if actor is not None and actor.pk else None
    name, now = getattr(actor, "username", "") or "", clock.now()
    request_id, source = context.request_id(), context.source()
    rawinsert.insert(
        ObjectChange,
        BULK_COLUMNS,
        (
            (now, user_id, name, action, type_of(o), o.pk, str(o)[:255], c, request_id, source)
            for o, c in zip(objs, changes, strict=True)
        ),
    )


BULK_COLUMNS = ("time", "user_id", "user_name", "action", "object_type", "object_id", "object_repr", "changes")
BULK_COLUMNS += ("request_id", "source")


def log_bulk_update(actor, objs: list[models.Model], changes: list[dict]) -> None:
    """The change log of many updates whose changes the caller already knows (the records a merge
    moves), in one statement."""
    _insert(actor, Action.UPDATE, objs, changes)


def log_bulk_delete(actor, objs: list[models.Model], befores: list[dict]) -> list[dict]:
    changes = [diff(b, {}) for b in befores]
    _insert(actor, Action.DELETE, objs, changes)
    return changes
