"""The change log, written explicitly by services (bulk paths included), never by signals."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.db import models

from crm.audit.models import Action, ObjectChange
from crm.core import context

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


def snapshot(obj: models.Model) -> dict:
    """A JSON-safe picture of a record: its own fields, plus what its ``extra_snapshot`` adds."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in SKIPPED:
            continue
        data[field.attname] = _jsonable(_stored_form(field, field.value_from_object(obj)))
    extra = getattr(obj, "extra_snapshot", None)
    if extra:
        data.update({k: _jsonable(v) for k, v in extra().items()})
    return data


def diff(before: dict, after: dict) -> dict:
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _entry(actor, obj, action: str, changes: dict) -> ObjectChange:
    return ObjectChange(
        user=actor if actor is not None and actor.pk else None,
        user_name=getattr(actor, "username", "") or "",
        action=action,
        object_type=obj.object_type,
        object_id=obj.pk,
        object_repr=str(obj)[:255],
        changes=changes,
        request_id=context.request_id(),
        source=context.source(),
    )


def _save(entry: ObjectChange) -> ObjectChange:
    entry.save(force_insert=True)
    return entry


EMPTY = (None, "", [], {})


def _filled(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in EMPTY}


def log_create(actor, obj) -> ObjectChange:
    return _save(_entry(actor, obj, Action.CREATE, diff({}, _filled(snapshot(obj)))))


def log_update(actor, obj, before: dict) -> ObjectChange | None:
    changes = diff(before, snapshot(obj))
    if not changes:
        return None
    return _save(_entry(actor, obj, Action.UPDATE, changes))


def log_delete(actor, obj, before: dict) -> ObjectChange:
    return _save(_entry(actor, obj, Action.DELETE, diff(before, {})))


def log_event(actor, obj, action: str, changes: dict) -> ObjectChange:
    return _save(_entry(actor, obj, action, changes))


def log_bulk_create(actor, objs: Iterable[models.Model]) -> None:
    """The change log of a bulk insert, written in one statement (imports, demo data)."""
    ObjectChange.objects.bulk_create(
        [_entry(actor, o, Action.CREATE, diff({}, _filled(snapshot(o)))) for o in objs], batch_size=500
    )
