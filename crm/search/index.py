"""Keeping the search index current. Services call update/remove in the same transaction."""

from __future__ import annotations

from crm.search.backends import backend
from crm.search.registry import fold, for_object, row_id, searchables


def _row(entry, obj) -> tuple[int, str, int, str, str]:
    text = fold(" ".join(part for part in entry.text(obj) if part))  # the same words as part by part
    return (row_id(entry, obj.pk), obj.object_type, obj.pk, text, fold(getattr(obj, entry.name_field)))


def update(obj) -> None:
    entry = for_object(obj)
    if entry is not None:
        backend().upsert([_row(entry, obj)])


def remove(obj) -> None:
    entry = for_object(obj)
    if entry is not None:
        backend().delete([row_id(entry, obj.pk)])


def remove_many(objs) -> None:
    """Remove many records of one type from the index in one statement (bulk deletes)."""
    objs = list(objs)
    if objs and (entry := for_object(objs[0])):
        backend().delete([row_id(entry, o.pk) for o in objs])


def update_many(objs) -> None:
    """Index many records of one type (bulk paths: imports, demo data); prefetch first."""
    objs = list(objs)
    if objs and (entry := for_object(objs[0])):
        backend().upsert([_row(entry, o) for o in objs])


def rebuild(object_types: list[str] | None = None, batch_size: int = 2000, progress=None) -> int:
    """Rebuild the index from the records; returns the number of rows written."""
    be = backend()
    if object_types is None:
        be.clear()
    total = 0
    for object_type, entry in searchables().items():
        if object_types is not None and object_type not in object_types:
            continue
        qs = entry.records().order_by("pk").prefetch_related(*entry.prefetch)
        last = 0
        while True:
            chunk = list(qs.filter(pk__gt=last)[:batch_size])
            if not chunk:
                break
            be.upsert([_row(entry, o) for o in chunk])
            last = chunk[-1].pk
            total += len(chunk)
            if progress:
                progress(object_type, total)
    return total
