"""Re-pointing many records at another record in a few statements (a merge moves the other record's
activities, tasks, deals, contacts ... to the survivor), leaving what one update at a time would: each
moved record's version goes up by one, it gets a change-log entry naming the link that changed, and
a record.updated event. The change-log rows go in as one bulk insert (changelog.log_bulk_update).

Queries do not grow with the number of records, but for the chunks of ``CHUNK`` ids that keep an
``IN`` list under SQLite's limit on bound parameters. No record's search text reads its links, so the
index is left as it is.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from crm.audit import changelog
from crm.core import events
from crm.sales import kept

CHUNK = 500


def move_many(model, field_name: str, old_pk: int, new_pk: int, *, actor, exclude_pk: int | None = None) -> int:
    """Point ``field_name`` of every ``model`` record that references ``old_pk`` at ``new_pk``;
    ``exclude_pk``: a record to leave where it is. Returns how many moved."""
    attname = model._meta.get_field(field_name).attname
    qs = model.objects.filter(**{attname: old_pk})
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    objs = list(qs.select_for_update().order_by("pk"))
    if not objs:
        return 0
    now = timezone.now()
    with kept.tracking(model, [o.pk for o in objs], [attname]):  # a moved owner moves the sales sums
        qs.update(**{attname: new_pk}, version=F("version") + 1, updated_at=now)
    for obj in objs:
        setattr(obj, attname, new_pk)
        obj.version += 1
        obj.updated_at = now
    _finish(actor, objs, [{attname: [old_pk, new_pk]} for _ in objs])
    return len(objs)


def before_of(model, pks) -> dict[int, dict]:
    """The snapshots of records whose related rows are about to change (a deal's contacts, an
    activity's participants), for log_changed; the records stay locked until the transaction ends."""
    return {obj.pk: changelog.snapshot(obj) for obj in _load(model, pks)}


def log_changed(model, before: dict[int, dict], *, actor) -> int:
    """After their related rows changed: the records whose snapshot now differs from ``before`` get a
    version bump, a change-log entry and an event. Returns how many."""
    objs, changes = [], []
    for obj in _load(model, before):
        diff = changelog.diff(before[obj.pk], changelog.snapshot(obj))
        if diff:
            objs.append(obj)
            changes.append(diff)
    if not objs:
        return 0
    now = timezone.now()
    for chunk in _chunks([o.pk for o in objs]):
        model.objects.filter(pk__in=chunk).update(version=F("version") + 1, updated_at=now)
    for obj in objs:
        obj.version += 1
        obj.updated_at = now
    _finish(actor, objs, changes)
    return len(objs)


def _load(model, pks) -> list:
    """The records with what their snapshot's extras read (``snapshot_prefetch``): a query per chunk and
    relation, none per record."""
    out = []
    for chunk in _chunks(sorted(pks)):
        qs = model.objects.filter(pk__in=chunk).select_for_update().order_by("pk")
        out.extend(qs.prefetch_related(*model.snapshot_prefetch))
    return out


def _chunks(pks: list[int]):
    for i in range(0, len(pks), CHUNK):
        yield pks[i : i + CHUNK]


def _finish(actor, objs: list, changes: list[dict]) -> None:
    changelog.log_bulk_update(actor, objs, changes)
    events.emit_many("record.updated", objs, actor=actor, changes=changes)
