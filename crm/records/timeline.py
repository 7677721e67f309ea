"""The unified timeline of a record: activities, tasks, changes and stage moves, newest first."""

from __future__ import annotations

import heapq
import itertools

from django.db.models.functions import Substr

from crm.audit.models import ObjectChange
from crm.audit.selectors import for_reader
from crm.records.models import Activity, Task

KINDS = ("activity", "task", "change")
# Entries from apps above the records (crm/mail: opens and clicks of sent mail), registered in their
# AppConfig.ready: kind -> function(record, user, limit) returning entries {"kind", "at", "object"},
# each read through the user's permissions. Read only when a caller asks for that kind.
EXTRA_SOURCES: dict = {}
# Functions(activities, user) that attach what other apps know about activities shown (a sent
# message's opens, a received one's attachments) as ``activity.timeline_parts``: [{"template", ...}].
DECORATORS: list = []


def decorate(activities, user) -> None:
    activities = list(activities)
    for activity in activities:
        activity.timeline_parts = []
    if activities:
        for decorator in DECORATORS:
            decorator(activities, user)


def timeline(
    record, user, *, limit: int = 50, kinds: tuple[str, ...] = KINDS, body_head: int | None = None
) -> list[dict]:
    """At most ``limit`` entries, each {"kind", "at", "object"}; every source is permission-filtered
    and read with its own LIMIT, so a record with 100,000 activities costs the same as one with 10.
    ``body_head``: a page showing excerpts reads only that many first characters of each activity's
    body (``activity.body_head``; ``body`` and the custom fields are not read): an email's body may be
    100 KB, and the page cuts it at a few hundred characters."""
    streams = []
    if "activity" in kinds:
        rows = (
            Activity.objects.restrict(user)
            # Through the links' own copy of the time: the newest ``limit`` come from one index.
            .filter(links__record_type=record.object_type, links__record_id=record.pk)
            .select_related("owner")
            .order_by("-links__occurred_at", "-links__activity_id")
        )
        if body_head:
            rows = rows.defer("body", "custom_fields").annotate(body_head=Substr("body", 1, body_head))
        rows = rows[:limit]
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
    for kind, source in EXTRA_SOURCES.items():
        if kind in kinds:
            streams.append(source(record, user, limit))
    merged = heapq.merge(
        *[sorted(s, key=lambda e: e["at"], reverse=True) for s in streams], key=lambda e: e["at"], reverse=True
    )
    return list(itertools.islice(merged, limit))
