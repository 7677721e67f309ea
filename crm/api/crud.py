"""The standard endpoints of a record type, built once from a declaration.

Every handler only translates HTTP to a service or a restricted queryset and back; the rules live
in the services. Not using ``from __future__ import annotations`` here: Ninja reads the payload
annotations at definition time.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from ninja import Router, Schema, Status
from ninja.responses import NinjaJSONEncoder
from pydantic import Field as PydanticField
from pydantic import ValidationError as PydanticValidationError
from pydantic import create_model

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.api import idempotency
from crm.api.errors import ErrorOut, field_path
from crm.api.openapi import CHANGES_MAX_LIMIT, QUERY_MAX_LENGTH
from crm.api.throttling import HEAVY
from crm.audit import reads
from crm.audit.models import ObjectChange
from crm.audit.selectors import for_reader
from crm.core.errors import BadRequest, PermissionDenied, ServiceError, ValidationFailed
from crm.core.filters import Field, filter_fields_of
from crm.core.paging import page
from crm.records import selectors
from crm.records.selectors import get_for
from crm.records.services.common import get_visible


@dataclass
class Resource:
    type: object  # the declaration (crm.core.recordtypes.RecordType)
    path: str
    model: type
    singular: str  # names the operations: list_contacts, create_contact, ...
    out: type[Schema]
    create_in: type[Schema]
    update_in: type[Schema]
    create: Callable
    update: Callable
    delete: Callable
    filters: dict[str, Field]
    sorts: dict[str, str]
    default_sort: str = "-updated_at"
    select_related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()  # for ?q= on types global search does not index
    # Page of instances -> the ``out`` schema's dicts, without per-record prefetch and validation
    # (crm/records/api/fast.py); list, detail and update responses use it when set.
    fast: Callable | None = None
    extra: dict = field(default_factory=dict)


def resource_for(rt) -> Resource:
    """The API's view of a declared record type (crm.core.recordtypes.RecordType)."""
    api = rt.api
    return Resource(
        type=rt,
        path=rt.slug,
        model=rt.model,
        singular=rt.singular.replace(" ", "_"),
        out=api.out,
        create_in=api.create_in,
        update_in=api.update_in,
        create=rt.create,
        update=rt.update,
        delete=rt.delete,
        filters=filter_fields_of(rt),
        sorts=rt.sorts,
        default_sort=api.default_sort,
        select_related=api.select_related,
        prefetch=api.prefetch,
        text_fields=api.text_fields,
        fast=api.fast,
    )


class Duplicate(Schema):
    object_type: str
    id: int
    name: str
    match: str


class Stamped(Schema):
    """An audit row's time (ISO) and request id (text): the change log's and the read audit's."""

    @staticmethod
    def resolve_time(obj):
        return obj.time.isoformat()

    @staticmethod
    def resolve_request_id(obj):
        return str(obj.request_id) if obj.request_id else None


class ChangeOut(Stamped):
    id: int
    time: str
    user_id: int | None
    user_name: str
    action: str
    object_type: str
    object_id: int
    object_repr: str
    changes: dict
    source: str
    request_id: str | None


class BulkIn(Schema):
    items: list[dict] = PydanticField(..., min_length=1)


def version_of(request, payload_version: int | None) -> int | None:
    """The version the client last saw: the body's ``version`` or an ``If-Match`` header."""
    if payload_version is not None:
        return payload_version
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":  # "*": any current version will do
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise BadRequest('If-Match must be a record version, e.g. "3".', fields={"If-Match": header}) from None


def related_qs(res: Resource):
    return selectors.related_qs(res.type)


def filtered(res: Resource, request, action: str = "view", *, related: bool = True):
    return selectors.filtered(res.type, request.user, request.GET, action, related=related)


def register(router: Router, res: Resource) -> None:  # noqa: C901 - one declaration, six endpoints
    Out, CreateIn, UpdateIn = res.out, res.create_in, res.update_in
    rt = res.type
    # A field a role may hide is sent as null (crm/access/fieldrules.py), so the schema allows null there
    # (before the page and bulk schemas are built on it).
    fieldrules.allow_null(Out, fieldrules.maskable_keys(rt, Out.model_fields))
    name = res.model._meta.verbose_name
    Page = create_model(f"{res.model.__name__}Page", __base__=Schema, items=(list[Out], ...), next=(str | None, None))
    Created = create_model(f"{res.model.__name__}Created", __base__=Out, possible_duplicates=(list[Duplicate], []))

    def dump(obj, duplicates=None, *, policy=None) -> dict:
        data = Out.from_orm(obj).model_dump(mode="json")
        if policy is not None:
            fieldrules.mask(policy, rt, data)
        if duplicates is not None:
            data["possible_duplicates"] = duplicates
        return data

    def shown(request, objs: list) -> list[dict] | None:
        """The records as dicts with the fields hidden from the user nulled; None when nothing is
        hidden from them (the usual path: the fast dumper, or the schema on the instances)."""
        policy = policy_for(request.user)
        if not policy.hidden_fields(rt.object_type):
            return None
        rows = res.fast(objs) if res.fast else [Out.from_orm(o).model_dump(mode="json") for o in objs]
        return fieldrules.mask_all(policy, rt, rows)

    def reload(pk):
        return related_qs(res).get(pk=pk)

    one, many = res.singular, res.path.replace("-", "_")

    @router.get("", response=Page, summary=f"List {res.model._meta.verbose_name_plural}", operation_id=f"list_{many}")
    def list_records(
        request, limit: int = 50, cursor: str | None = None, sort: str | None = None, q: str | None = None
    ):
        if not 1 <= limit <= settings.API_MAX_PAGE_SIZE:
            raise BadRequest(f"limit must be 1 to {settings.API_MAX_PAGE_SIZE}.", fields={"limit": str(limit)})
        if q and len(q) > QUERY_MAX_LENGTH:  # as global search: a query, not a document
            raise BadRequest(
                f"The query is too long ({QUERY_MAX_LENGTH} characters at most).", fields={"q": "Too long."}
            )
        fast = res.fast
        sort_by = selectors.sort_of(res.type, sort, request.user)
        rows, nxt = page(filtered(res, request, related=not fast), sort_by, limit=limit, cursor=cursor)
        if (masked := shown(request, rows)) is not None:
            return json_response({"items": masked, "next": nxt})
        return json_response({"items": fast(rows), "next": nxt}) if fast else {"items": rows, "next": nxt}

    @router.post("", response={201: Created}, summary=f"Create a {name}", operation_id=f"create_{one}")
    def create_record(request, payload: CreateIn):
        data = payload.model_dump(exclude_unset=True, mode="python")
        key = idempotency.key_of(request)
        with transaction.atomic():
            if key and (found := idempotency.replay(request, key, router_path(request), data)):
                return JsonResponse(found[1], status=found[0], headers={"Idempotent-Replayed": "true"})
            saved = res.create(actor=request.user, data=data)
            body = dump(reload(saved.obj.pk), saved.duplicates, policy=policy_for(request.user))
            if key:
                idempotency.remember(request, key, router_path(request), data, 201, body)
        return JsonResponse(body, status=201)

    BulkItem = create_model(
        f"{res.model.__name__}BulkItem", __base__=Schema, id=(int, ...), created=(bool, ...), record=(Out, ...)
    )
    BulkOut = create_model(f"{res.model.__name__}BulkOut", __base__=Schema, items=(list[BulkItem], ...))

    @router.post(
        "/bulk",
        response={200: BulkOut, 422: ErrorOut},
        summary=f"Create or update up to {settings.API_BULK_MAX_ITEMS} {name}s at once",
        operation_id=f"bulk_save_{many}",
        throttle=HEAVY,
    )
    def bulk(request, payload: BulkIn):
        if len(payload.items) > settings.API_BULK_MAX_ITEMS:
            raise ValidationFailed({"items": f"At most {settings.API_BULK_MAX_ITEMS} items per request."})
        _require_bulk_actions(res, request.user, payload.items)
        results, errors = [], {}
        with transaction.atomic():
            for i, item in enumerate(payload.items):
                try:
                    with transaction.atomic():
                        results.append(_bulk_item(res, request, item, UpdateIn, CreateIn, dump, reload))
                except ServiceError as exc:
                    for f, msg in (exc.fields or {"": exc.message}).items():
                        errors[f"items.{i}{'.' + f if f else ''}"] = msg
                except PydanticValidationError as exc:
                    for err in exc.errors():
                        errors.setdefault(f"items.{i}.{field_path(err['loc'])}", err["msg"])
            if errors:
                transaction.set_rollback(True)
                return Status(
                    422,
                    {
                        "error": {
                            "code": "validation_failed",
                            "message": "No item was saved: fix the items listed in fields.",
                            "fields": errors,
                        }
                    },
                )
        return json_response({"items": results})  # records dumped already: not validated twice

    @router.get("/{int:pk}", response=Out, summary=f"Get a {name}", operation_id=f"get_{one}")
    def get_record(request, pk: int, response: HttpResponse):
        obj = get_visible(res.model if res.fast else related_qs(res), request.user, pk)
        reads.record_sensitive_view(request.user, obj)
        if (masked := shown(request, [obj])) is not None:
            return json_response(masked[0], ETag=f'"{obj.version}"')
        if res.fast:
            return json_response(res.fast([obj])[0], ETag=f'"{obj.version}"')
        response["ETag"] = f'"{obj.version}"'
        return obj

    @router.patch("/{int:pk}", response=Out, summary=f"Update a {name}", operation_id=f"update_{one}")
    def update_record(request, pk: int, payload: UpdateIn, response: HttpResponse):
        data = payload.model_dump(exclude_unset=True, mode="python")
        version = version_of(request, data.pop("version", None))
        obj = get_for(res.model, request.user, pk, "change")
        saved = res.update(obj, actor=request.user, data=data, version=version)
        if (masked := shown(request, [reload(saved.obj.pk)])) is not None:
            return json_response(masked[0], ETag=f'"{saved.obj.version}"')
        if res.fast:
            obj = res.model.objects.get(pk=saved.obj.pk)
            return json_response(res.fast([obj])[0], ETag=f'"{obj.version}"')
        obj = reload(saved.obj.pk)
        response["ETag"] = f'"{obj.version}"'
        return obj

    @router.delete("/{int:pk}", response={204: None}, summary=f"Delete a {name}", operation_id=f"delete_{one}")
    def delete_record(request, pk: int, version: int | None = None):
        obj = get_for(res.model, request.user, pk, "delete")
        res.delete(obj, actor=request.user, version=version_of(request, version))
        return Status(204, None)

    @router.get(
        "/{int:pk}/changes", response=list[ChangeOut], summary=f"Change log of a {name}", operation_id=f"{one}_changes"
    )
    def record_changes(request, pk: int, limit: int = 100):
        if not 1 <= limit <= CHANGES_MAX_LIMIT:
            raise BadRequest(f"limit must be 1 to {CHANGES_MAX_LIMIT}.", fields={"limit": str(limit)})
        obj = get_visible(res.model, request.user, pk)
        return for_reader(
            request.user, ObjectChange.objects.filter(object_type=obj.object_type, object_id=obj.pk)[:limit]
        )


def _require_bulk_actions(res: Resource, user, items: list) -> None:
    """A role without "add" (or "change") gets one 403, not a 422 listing every item."""
    policy = policy_for(user)
    for action in sorted({"change" if isinstance(i, dict) and "id" in i else "add" for i in items}):
        if not policy.allows(res.model.object_type, action):
            raise PermissionDenied(f"You may not {action} {res.model._meta.verbose_name_plural}.")


def _bulk_item(res, request, item: dict, UpdateIn, CreateIn, dump, reload) -> dict:
    if not isinstance(item, dict):
        raise ValidationFailed({"": "Each item must be an object."})
    item = dict(item)
    pk = item.pop("id", None)
    if pk is None:
        data = CreateIn(**item).model_dump(exclude_unset=True, mode="python")
        saved = res.create(actor=request.user, data=data)
        record = dump(reload(saved.obj.pk), policy=policy_for(request.user))
        return {"id": saved.obj.pk, "created": True, "record": record}
    data = UpdateIn(**item).model_dump(exclude_unset=True, mode="python")
    version = data.pop("version", None)
    obj = get_for(res.model, request.user, pk, "change")
    saved = res.update(obj, actor=request.user, data=data, version=version)
    return {"id": saved.obj.pk, "created": False, "record": dump(reload(saved.obj.pk), policy=policy_for(request.user))}


def masked_record(res: Resource, user, obj):
    """``obj`` as the resource's output, with the fields hidden from ``user``'s role nulled: a dict in
    a response when a field is hidden, else the instance for the schema (the endpoints beside the
    standard ones: a deal's move, a task's completion)."""
    policy = policy_for(user)
    if not policy.hidden_fields(res.type.object_type):
        return obj
    return json_response(fieldrules.mask(policy, res.type, res.out.from_orm(obj).model_dump(mode="json")))


def json_response(data, **headers) -> HttpResponse:
    """What Ninja's default renderer sends for ``data`` (the schema's python-mode dump), without
    validating it again."""
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8", headers=headers
    )


def router_path(request) -> str:
    return f"{request.method} {request.path}"
