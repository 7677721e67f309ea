"""Settings API of custom object types (admins only): /api/v1/settings/object-types. The records
themselves are read and written through the generic /api/v1/objects/{slug} endpoints (records_api.py)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from crm.access.policy import require_admin
from crm.customization.models import CustomField
from crm.objects import services
from crm.objects.models import ObjectType
from crm.objects.record_schema import record_schema
from crm.objects.selectors import get_type

router = Router(tags=["object types"])
WHAT = "object types"


class FieldIn(Schema):
    key: str
    label: str
    field_type: str
    required: bool = False
    default: object | None = None
    choices: list = Field(default_factory=list)
    help_text: str = ""
    target: str = ""
    unique: bool = False
    searchable: bool = False
    encrypted: bool = False


class FieldOut(FieldIn):
    order: int


class ObjectTypeIn(Schema):
    key: str
    singular: str
    plural: str
    slug: str
    icon: str = ""
    colour: str = "#6b7280"
    description: str = ""
    name_field: str = Field("name", description="The key of the text field that names a record.")
    fields: list[FieldIn] = Field(default_factory=list, description="Created with the type.")


class ObjectTypePatch(Schema):
    key: str | None = Field(None, description="Never changes; sending another key is an error.")
    singular: str | None = None
    plural: str | None = None
    slug: str | None = None
    icon: str | None = None
    colour: str | None = None
    description: str | None = None
    name_field: str | None = None
    archived: bool | None = None


class ObjectTypeOut(Schema):
    key: str
    singular: str
    plural: str
    slug: str
    icon: str
    colour: str
    description: str
    name_field: str
    archived: bool
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    fields: list[FieldOut]


class DeletedOut(Schema):
    records_deleted: int


def _out(types: list[ObjectType]) -> list[dict]:
    """Each type with its field definitions, read in one query for all of them."""
    fields: dict[str, list[CustomField]] = {t.key: [] for t in types}
    for f in CustomField.objects.filter(object_type__in=list(fields)).order_by("order", "id"):
        fields[f.object_type].append(f)
    return [
        {
            **{name: getattr(t, name) for name in (*services.FIELDS, "archived", "archived_at")},
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "fields": fields[t.key],
        }
        for t in types
    ]


@router.get("", response=list[ObjectTypeOut], summary="Custom object types (admins)")
def list_object_types(request, archived: bool | None = None):
    require_admin(request.user, WHAT)
    qs = ObjectType.objects.all()
    if archived is not None:
        qs = qs.filter(archived_at__isnull=not archived)
    return _out(list(qs))


@router.post("", response={201: ObjectTypeOut}, summary="Create a custom object type with its fields (admins)")
def create_object_type(request, payload: ObjectTypeIn):
    created = services.object_type_create(actor=request.user, data=payload.model_dump())
    return Status(201, _out([created])[0])


@router.get("/{key}", response=ObjectTypeOut, summary="One custom object type (admins)")
def get_object_type(request, key: str):
    require_admin(request.user, WHAT)
    return _out([get_type(key)])[0]


@router.patch("/{key}", response=ObjectTypeOut, summary="Change, archive or restore a custom object type (admins)")
def update_object_type(request, key: str, payload: ObjectTypePatch):
    require_admin(request.user, WHAT)
    saved = services.object_type_update(get_type(key), actor=request.user, data=payload.model_dump(exclude_unset=True))
    return _out([saved])[0]


@router.delete(
    "/{key}",
    response=DeletedOut,
    summary="Delete a custom object type; with records, only with confirm=true, which deletes them (admins)",
)
def delete_object_type(request, key: str, confirm: bool = False):
    require_admin(request.user, WHAT)
    return {"records_deleted": services.object_type_delete(get_type(key), actor=request.user, confirm=confirm)}


@router.get("/{key}/schema", response=dict, summary="JSON Schema (draft 2020-12) of a record of the type (admins)")
def object_type_schema(request, key: str):
    require_admin(request.user, WHAT)
    return record_schema(get_type(key))
