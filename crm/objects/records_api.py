"""The generic API of custom records: /api/v1/objects/{slug}, the same endpoints a declared type gets
(crm/api/crud.py) for every type admins define, read from the registry (crm/objects/registry.py).

A record is ``{"id", "version", "name", "owner_id", "created_at", "updated_at", "values": {key: value}}``
(what /api/v1/settings/object-types/{key}/schema describes). Permissions are the role's grant and
scope for the type's key; the record services check them again when they write.
"""

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from ninja import Router, Status
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError as PydanticValidationError

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.api import idempotency
from crm.api.crud import BulkIn, ChangeOut, json_response, router_path, version_of
from crm.api.errors import ErrorOut, field_path
from crm.api.openapi import bounded
from crm.audit import reads
from crm.audit.models import ObjectChange
from crm.audit.selectors import for_reader
from crm.core import recordtypes
from crm.core.errors import BadRequest, NotFound, PermissionDenied, ServiceError, ValidationFailed
from crm.core.paging import page
from crm.objects import schemas as s
from crm.objects.selectors import get_record
from crm.records import selectors

router = Router(tags=["objects"])
ATTRIBUTES = {"owner_id", "owner", "version", "body", "values"}  # error fields that are not values


def type_of(slug: str):
    """The custom type at this slug (not a built-in one: those have their own paths)."""
    rt = recordtypes.by_slug(slug)
    if rt is None or not rt.run_time:
        raise NotFound(f"No custom object type at {slug!r}.", fields={"slug": slug})
    return rt


def _data(payload: dict) -> dict:
    """The services' flat data, with every problem named by its path in the request body."""
    values = payload.get("values") or {}
    if any(key in ("owner_id", "owner") for key in values):
        raise ValidationFailed({"values.owner_id": "The owner is owner_id beside values, not a value."})
    return s.service_data(payload)


def _call(fn, *args, **kwargs):
    """A service call whose field errors name ``values.<key>`` as the body does."""
    try:
        return fn(*args, **kwargs)
    except ValidationFailed as exc:
        fields = {k if k in ATTRIBUTES or not k else f"values.{k}": v for k, v in exc.fields.items()}
        raise ValidationFailed(fields, exc.message) from None


def _shown(rt, record, user) -> dict:
    """The record as the API sends it, with the fields hidden from ``user``'s role nulled."""
    return fieldrules.mask(policy_for(user), rt, s.out(record))


def _dump(rt, pk, user) -> dict:
    return _shown(rt, rt.objects().get(pk=pk), user)


@router.get(
    "/{slug}",
    response=s.RecordPage,
    summary="List the records of a custom object type",
    operation_id="list_custom_records",
)
def list_records(
    request,
    slug: str,
    limit: bounded(1, settings.API_MAX_PAGE_SIZE) = 50,
    cursor: str | None = None,
    sort: str | None = None,
    q: str = "",
):
    """Filters by field key (``?seats__gt=4``, ``?colour=red``, ``?owner=3``), ``sort=`` a field key."""
    rt = type_of(slug)
    if not 1 <= limit <= settings.API_MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be 1 to {settings.API_MAX_PAGE_SIZE}.", fields={"limit": str(limit)})
    if len(q) > 200:
        raise BadRequest("The query is too long (200 characters at most).", fields={"q": "Too long."})
    qs = selectors.filtered(rt, request.user, request.GET)
    rows, nxt = page(qs, selectors.sort_of(rt, sort, request.user), limit=limit, cursor=cursor)
    return {"items": [_shown(rt, r, request.user) for r in rows], "next": nxt}


@router.post(
    "/{slug}",
    response={201: s.RecordOut},
    summary="Create a record of a custom object type",
    operation_id="create_custom_record",
)
def create_record(request, slug: str, payload: s.RecordIn):
    rt = type_of(slug)
    raw = payload.model_dump(exclude_unset=True)
    key = idempotency.key_of(request)
    with transaction.atomic():
        if key and (found := idempotency.replay(request, key, router_path(request), raw)):
            return JsonResponse(found[1], status=found[0], headers={"Idempotent-Replayed": "true"})
        saved = _call(rt.create, actor=request.user, data=_data(raw))
        body = _encoded(_dump(rt, saved.obj.pk, request.user))
        if key:
            idempotency.remember(request, key, router_path(request), raw, 201, body)
    return JsonResponse(body, status=201)


def _encoded(data: dict) -> dict:
    """JSON-ready (dates as text), as an idempotent replay stores it and a bulk result sends it."""
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


@router.post(
    "/{slug}/bulk",
    response={200: s.BulkOut, 422: ErrorOut},
    summary=f"Create or update up to {settings.API_BULK_MAX_ITEMS} records of a custom object type at once",
    operation_id="bulk_save_custom_records",
)
def bulk_save_records(request, slug: str, payload: BulkIn):
    """All or nothing: items with an ``id`` update that record, the others create one."""
    rt = type_of(slug)
    if len(payload.items) > settings.API_BULK_MAX_ITEMS:
        raise ValidationFailed({"items": f"At most {settings.API_BULK_MAX_ITEMS} items per request."})
    results, errors = _save_all(rt, request.user, payload.items)
    if errors:
        message = "No item was saved: fix the items listed in fields."
        return Status(422, {"error": {"code": "validation_failed", "message": message, "fields": errors}})
    return json_response({"items": results})


@router.get("/{slug}/{int:pk}", response=s.RecordOut, summary="Get a custom record", operation_id="get_custom_record")
def get_record_endpoint(request, slug: str, pk: int, response: HttpResponse):
    rt = type_of(slug)
    record = get_record(rt.extra["type"], request.user, pk)
    reads.record_sensitive_view(request.user, record)
    response["ETag"] = f'"{record.version}"'
    return _shown(rt, record, request.user)


@router.patch(
    "/{slug}/{int:pk}", response=s.RecordOut, summary="Update a custom record", operation_id="update_custom_record"
)
def update_record(request, slug: str, pk: int, payload: s.RecordPatch, response: HttpResponse):
    rt = type_of(slug)
    raw = payload.model_dump(exclude_unset=True)
    version = version_of(request, raw.pop("version", None))
    record = get_record(rt.extra["type"], request.user, pk)
    saved = _call(rt.update, record, actor=request.user, data=_data(raw), version=version)
    response["ETag"] = f'"{saved.obj.version}"'
    return _dump(rt, saved.obj.pk, request.user)


@router.delete(
    "/{slug}/{int:pk}", response={204: None}, summary="Delete a custom record", operation_id="delete_custom_record"
)
def delete_record(request, slug: str, pk: int, version: int | None = None):
    rt = type_of(slug)
    record = get_record(rt.extra["type"], request.user, pk)
    rt.delete(record, actor=request.user, version=version_of(request, version))
    return Status(204, None)


@router.get(
    "/{slug}/{int:pk}/changes",
    response=list[ChangeOut],
    summary="Change log of a custom record",
    operation_id="custom_record_changes",
)
def record_changes(request, slug: str, pk: int, limit: bounded(1, 500) = 100):
    rt = type_of(slug)
    if not 1 <= limit <= 500:
        raise BadRequest("limit must be 1 to 500.", fields={"limit": str(limit)})
    record = get_record(rt.extra["type"], request.user, pk)
    return for_reader(
        request.user, ObjectChange.objects.filter(object_type=rt.object_type, object_id=record.pk)[:limit]
    )


def _save_all(rt, user, items: list) -> tuple[list, dict]:
    """Every item in its own savepoint so all errors are reported; any error rolls all back."""
    policy = policy_for(user)
    for action in sorted({"change" if isinstance(i, dict) and "id" in i else "add" for i in items}):
        if not policy.allows(rt.object_type, action):  # one 403, not a 422 per item
            raise PermissionDenied(f"You may not {action} {rt.plural}.")
    results, errors = [], {}
    with transaction.atomic():
        for i, item in enumerate(items):
            try:
                with transaction.atomic():
                    results.append(_save_one(rt, user, item))
            except ServiceError as exc:
                errors |= _item_errors(i, exc)
            except PydanticValidationError as exc:
                for err in exc.errors():
                    errors.setdefault(f"items.{i}.{field_path(err['loc'])}", err["msg"])
        if errors:
            transaction.set_rollback(True)
    return results, errors


def _save_one(rt, user, item) -> dict:
    if not isinstance(item, dict):
        raise ValidationFailed({"": "Each item must be an object."})
    item = dict(item)
    pk = item.pop("id", None)
    if pk is None:
        saved = _call(rt.create, actor=user, data=_data(s.RecordIn(**item).model_dump(exclude_unset=True)))
    else:
        raw = s.RecordPatch(**item).model_dump(exclude_unset=True)
        version = raw.pop("version", None)
        record = get_record(rt.extra["type"], user, pk)
        saved = _call(rt.update, record, actor=user, data=_data(raw), version=version)
    return {"id": saved.obj.pk, "created": pk is None, "record": _encoded(_dump(rt, saved.obj.pk, user))}


def _item_errors(i: int, exc: ServiceError) -> dict[str, str]:
    fields = exc.fields or {"": exc.message}
    return {f"items.{i}{'.' + k if k else ''}": v for k, v in fields.items()}


from crm.objects.timeline_api import router as timeline_router  # noqa: E402  (it reads type_of above)

router.add_router("", timeline_router)
