import datetime as dt

from django.conf import settings
from ninja import Router

from crm.api.crud import ChangeOut
from crm.api.openapi import bounded
from crm.audit.selectors import for_reader, visible_changes
from crm.core.errors import BadRequest
from crm.core.filters import Field, build_q
from crm.core.paging import Sort, page

router = Router(tags=["changes"])
FILTERS = {
    "object_type": Field("object_type", "str"),
    "object_id": Field("object_id", "int"),
    "user": Field("user_id", "int"),
    "action": Field("action", "str"),
    "source": Field("source", "str"),
    "time": Field("time", "datetime"),
    "request_id": Field("request_id", "uuid"),
}


@router.get("", response=dict, summary="The change log, newest first (cursor paginated)")
def changes(
    request,
    limit: bounded(1, settings.API_MAX_PAGE_SIZE) = 50,
    cursor: str | None = None,
    since: dt.datetime | None = None,
):
    if not 1 <= limit <= settings.API_MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be 1 to {settings.API_MAX_PAGE_SIZE}.", fields={"limit": str(limit)})
    params = {k: v for k, v in request.GET.items() if k not in {"limit", "cursor", "since"}}
    qs = visible_changes(request.user).filter(build_q("change", params, FILTERS))
    if since:
        qs = qs.filter(time__gte=since if since.tzinfo else since.replace(tzinfo=dt.UTC))  # naive means UTC
    rows, nxt = page(qs, Sort("time", True), limit=limit, cursor=cursor)
    return {
        "items": [ChangeOut.from_orm(r).model_dump(mode="json") for r in for_reader(request.user, rows)],
        "next": nxt,
    }
