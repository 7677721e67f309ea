"""GET /api/v1/audit/reads: the read audit, admins only, newest first, cursor paginated. There is no
write endpoint: events are written by the exports and reads themselves (crm.audit.reads)."""

from django.conf import settings
from ninja import Router, Schema

from crm.api.crud import Stamped
from crm.api.openapi import bounded
from crm.audit import reads
from crm.core.errors import BadRequest
from crm.core.paging import Sort, page

router = Router(tags=["audit"])


class ReadEventOut(Stamped):
    id: int
    time: str
    user_id: int | None
    user_name: str
    action: str
    object_type: str
    object_id: int | None
    count: int | None
    detail: dict
    source: str
    request_id: str | None


class ReadPage(Schema):
    items: list[ReadEventOut]
    next: str | None = None


@router.get(
    "/reads",
    response=ReadPage,
    summary="The read audit (exports, subject access, sensitive-field views), newest first; admins only. "
    "Filters: user (id or user name), action, object_type, from, to (dates or date-times).",
)
def read_events(request, limit: bounded(1, settings.API_MAX_PAGE_SIZE) = 50, cursor: str | None = None):
    if not 1 <= limit <= settings.API_MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be 1 to {settings.API_MAX_PAGE_SIZE}.", fields={"limit": str(limit)})
    unknown = set(request.GET) - {"limit", "cursor", "user", "action", "object_type", "from", "to"}
    if unknown:
        raise BadRequest("Unknown filter.", fields={name: "Unknown filter." for name in sorted(unknown)})
    rows, nxt = page(reads.events(request.user, request.GET), Sort("time", True), limit=limit, cursor=cursor)
    return {"items": rows, "next": nxt}
