"""GET /api/v1/objects/{slug}/{id}/timeline: the unified timeline of a custom record (activities, tasks
and changes, newest first), as /api/v1/{kind}/{id}/timeline gives it for the declared types: the same
entries and query parameters (crm/records/api/timeline.py, crm/records/timeline.py). The record is read
through the type's restricted queryset: one the user may not see is a 404, as a missing one."""

from ninja import Router

from crm.objects.records_api import type_of
from crm.objects.selectors import get_record
from crm.records.api.timeline import Entry, Kinds, Limit, checked_query, entries_response

router = Router(tags=["objects"])


@router.get(
    "/{slug}/{int:pk}/timeline",
    response=list[Entry],
    summary="A custom record's unified timeline",
    operation_id="custom_record_timeline",
)
def custom_record_timeline(request, slug: str, pk: int, limit: Limit = 50, types: Kinds = None):
    rt = type_of(slug)
    wanted = checked_query(limit, types)
    record = get_record(rt.extra["type"], request.user, pk)
    return entries_response(record, request.user, limit, wanted)
