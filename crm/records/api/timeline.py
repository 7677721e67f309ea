import datetime as dt
from typing import Annotated, Literal

from ninja import Router, Schema

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.api.crud import json_response
from crm.api.openapi import bounded, declared
from crm.core import recordtypes
from crm.core.errors import BadRequest
from crm.records.services.common import get_visible
from crm.records.timeline import KINDS, timeline

MAX_ENTRIES = 200
# What checked_query takes, declared: a page size, and a comma-separated list of entry kinds.
Limit = bounded(1, MAX_ENTRIES)
_KIND = "(?:" + "|".join(KINDS) + ")"
Kinds = Annotated[
    str | None, declared(pattern=f"^{_KIND}?(?:,{_KIND}?)*$", description=f"Comma-separated: {', '.join(KINDS)}.")
]

# The types with a timeline (their declaration says so), by slug; the path's enum in the OpenAPI.
MODELS = {rt.slug: rt.model for rt in recordtypes.declared_types() if rt.timeline}
TimelineSlug = Literal[tuple(MODELS)]


class Entry(Schema):
    kind: str
    at: dt.datetime
    id: int
    title: str
    detail: dict


def _entry(e: dict, policy=None) -> dict:
    """One entry; with the reader's ``policy``, the details of fields hidden from their role are null
    (crm/access/fieldrules.py)."""
    o = e["object"]
    if e["kind"] == "activity":
        detail = {
            "kind": o.kind,
            "body": o.body[:2000],
            "direction": o.direction,
            "outcome": o.outcome,
            "duration_minutes": o.duration_minutes,
            "owner": o.owner.username if o.owner else None,
        }
        detail = fieldrules.mask(policy, recordtypes.by_type("activity"), detail) if policy else detail
        return {"kind": "activity", "at": e["at"], "id": o.pk, "title": str(o), "detail": detail}
    if e["kind"] == "task":
        detail = {
            "status": o.status,
            "priority": o.priority,
            "due_at": o.due_at,
            "assignee": o.assignee.username if o.assignee else None,
        }
        detail = fieldrules.mask(policy, recordtypes.by_type("task"), detail) if policy else detail
        return {"kind": "task", "at": e["at"], "id": o.pk, "title": o.title, "detail": detail}
    return {
        "kind": "change",
        "at": e["at"],
        "id": o.pk,
        "title": f"{o.action} by {o.user_name or 'system'}",
        "detail": {"action": o.action, "changes": o.changes, "source": o.source},
    }


router = Router(tags=["timeline"])


@router.get("/{kind}/{int:pk}/timeline", response=list[Entry], summary="A record's unified timeline")
def record_timeline(
    request,
    kind: TimelineSlug,
    pk: int,
    limit: Limit = 50,
    types: Kinds = None,
):
    wanted = checked_query(limit, types)
    return entries_response(get_visible(MODELS[kind], request.user, pk), request.user, limit, wanted)


def checked_query(limit: int, types: str | None) -> tuple[str, ...]:
    """The entry kinds asked for; a bad limit or kind is a 400 (also for custom types, crm/objects)."""
    if not 1 <= limit <= MAX_ENTRIES:
        raise BadRequest(f"limit must be 1 to {MAX_ENTRIES}.", fields={"limit": str(limit)})
    wanted = tuple(t for t in (types or ",".join(KINDS)).split(",") if t)
    if bad := [t for t in wanted if t not in KINDS]:
        raise BadRequest(f"Unknown timeline types: {', '.join(bad)}.", fields={"types": f"Use {', '.join(KINDS)}."})
    return wanted


def entries_response(record, user, limit: int, wanted: tuple[str, ...]):
    # _entry builds exactly Entry's python-mode dump (same keys, same order, same value types), so the
    # response skips validating it again (tests/test_api_fast.py compares both).
    policy = policy_for(user)
    return json_response([_entry(e, policy) for e in timeline(record, user, limit=limit, kinds=wanted)])
