"""The unified timeline of a record: activities, tasks, changes and stage moves, newest first."""

from __future__ import annotations

import heapq
import itertools

from crm.audit.models import ObjectChange
from crm.audit.selectors import for_reader
from crm.records.models import Activity, Task

KINDS = ("activity", "task", "change")


def timeline(record, user, *, limit: int = 50, kinds: tuple[str, ...] = KINDS) -> list[dict]:
    """At most ``limit`` entries, each {"kind", "at", "object"}; every source is permission-filtered
    and read with its own LIMIT, so a record with 100,000 activities costs the same as one with 10."""
    streams = []
    if "activity" in kinds:
        rows = (
            Activity.objects.restrict(user)
            # Through the links' own copy of the time: the newest ``limit`` come from one index.
            .filter(links__record_type=record.object_type, links__record_id=record.pk)
            .select_related("owner")
            .order_by("-links__occurred_at", "-links__activity_id")[:limit]
        )
        streams.append({"kind": "activity", "at": a.occurred_at, "object": a} for a in rows)
    if "task" in kinds:
        rows = Task.objects.restrict(user).linked_to(record).select_related("assignee").order_by("-created_at")[:limit]
        streams.append({"kind": "task", "at": t.due_at or t.created_at, "object": t} for t in rows)
    if "change" in kinds:
        rows = ObjectChange.objects.filter(object_type=record.object_type, object_id=record.pk).order_by(
            "-time", "-id"
        )[:limit]
        # The values of fields hidden from the reader are masked (crm/audit/selectors.py).
        streams.append({"kind": "change", "at": c.time, "object": c} for c in for_reader(user, rows))
    merged = heapq.merge(
        *[sorted(s, key=lambda e: e["at"], reverse=True) for s in streams], key=lambda e: e["at"], reverse=True
    )
    return list(itertools.islice(merged, limit))
