from ninja import Router, Schema

from crm.api.openapi import bounded
from crm.api.throttling import HEAVY
from crm.core.errors import BadRequest
from crm.search.query import search
from crm.search.registry import searchables

router = Router(tags=["search"])


class Hit(Schema):
    object_type: str
    id: int
    name: str
    detail: str


def _detail(obj) -> str:
    for attr in ("email", "domain", "company_name", "phone"):
        if getattr(obj, attr, ""):
            return getattr(obj, attr)
    return ""


@router.get("", response=dict[str, list[Hit]], throttle=HEAVY, summary="Global search, grouped by type")
def global_search(request, q: str, types: str | None = None, limit: bounded(1, 50) = 10):
    if not 1 <= limit <= 50:
        raise BadRequest("limit must be 1 to 50.", fields={"limit": str(limit)})
    if len(q) > 200:
        raise BadRequest("The query is too long (200 characters at most).", fields={"q": "Too long."})
    wanted = [t for t in (types or "").split(",") if t] or None
    if wanted and (bad := [t for t in wanted if t not in searchables()]):
        raise BadRequest(f"Cannot search {', '.join(bad)}.", fields={"types": f"Use {', '.join(searchables())}."})
    found = search(request.user, q, types=wanted or list(searchables()), limit=limit)
    return {
        t: [{"object_type": t, "id": o.pk, "name": str(o), "detail": _detail(o)} for o in objs]
        for t, objs in found.items()
    }
