"""The values a custom field holds in the records of its type: counted before a definition change, and
removed when a field holding data is deleted on purpose."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from crm.audit import changelog
from crm.core import recordtypes
from crm.core.normalize import InvalidValue
from crm.customization import secrets
from crm.customization.models import CustomField
from crm.customization.validation import coerce

PREVIEW = 20  # values shown that would not convert
CHUNK = 1000
EMPTY = (None, "", [])


def _records(field: CustomField):
    """Every record of the field's type that has the key (any owner: a definition belongs to everyone)."""
    qs = recordtypes.record_queryset(field.object_type)
    return None if qs is None else qs.filter(custom_fields__has_key=field.key).order_by("pk")


def stored(field: CustomField) -> Iterator[tuple[int, object]]:
    """(record id, value) of the records holding a value for the field; empty values hold nothing."""
    qs = _records(field)
    if qs is None:
        return
    for pk, values in qs.values_list("pk", "custom_fields").iterator(chunk_size=CHUNK):
        value = (values or {}).get(field.key)
        if value not in EMPTY:
            yield pk, value


def converts(field: CustomField, value) -> bool:
    """Whether a stored value is valid for ``field`` (a new type): as it is, or a number read as text."""
    candidates = [value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        candidates.append(str(value))
    for candidate in candidates:
        try:
            coerce(field, candidate)
            return True
        except (InvalidValue, ValueError, TypeError):
            continue
    return False


def preview(field: CustomField, changed: CustomField) -> dict:
    """How many records hold values of ``field``, and up to PREVIEW of them ``changed`` would refuse."""
    count, refused = 0, []
    for _pk, value in stored(field):
        count += 1
        value = _plain(value)
        if len(refused) < PREVIEW and value not in refused and not converts(changed, value):
            refused.append(value)
    return {"records_with_values": count, "not_convertible": refused}


def _plain(value):
    """An encrypted value is previewed as its text (the admin changing the field may read values)."""
    try:
        return secrets.open_value(value)
    except Exception:  # a key that is gone: shown as stored rather than failing the preview
        return value


def recrypt(field: CustomField) -> int:
    """Encrypt (``field.encrypted``) or decrypt every stored value of ``field``, locked chunk by chunk
    in the caller's transaction: the flag and the values change together. Not change-logged per
    record (the value itself is unchanged; the definition's entry records the flag). Returns the count."""
    qs = _records(field)
    if qs is None:
        return 0
    done, last = 0, 0
    while chunk := list(qs.select_for_update().filter(pk__gt=last)[:CHUNK]):
        last = chunk[-1].pk
        changed = []
        for record in chunk:
            value = record.custom_fields.get(field.key)
            if value in EMPTY or secrets.is_envelope(value) == field.encrypted:
                continue
            new = secrets.envelope(str(value)) if field.encrypted else secrets.open_value(value)
            record.custom_fields = {**record.custom_fields, field.key: new}
            changed.append(record)
        type(chunk[0]).objects.bulk_update(changed, ["custom_fields"]) if changed else None
        done += len(changed)
    return done


def remove(field: CustomField, *, actor) -> int:
    """Take the field's key out of every record holding it: each record is updated as a service would
    (version + 1, updated_at, a change-log entry). Returns how many records held it."""
    qs = _records(field)
    if qs is None:
        return 0
    removed, last = 0, 0
    while chunk := list(qs.select_for_update().filter(pk__gt=last)[:CHUNK]):
        last = chunk[-1].pk
        changes = []
        for record in chunk:
            before = dict(record.custom_fields)
            record.custom_fields.pop(field.key, None)
            record.version += 1
            record.updated_at = timezone.now()
            changes.append({"custom_fields": [before, record.custom_fields]})
        type(chunk[0]).objects.bulk_update(chunk, ["custom_fields", "version", "updated_at"])
        changelog.log_bulk_update(actor, chunk, changes)
        removed += len(chunk)
    return removed
