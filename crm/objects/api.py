"""Settings API of custom object types (admins only): /api/v1/settings/object-types. The records
themselves are read and written through the generic /api/v1/objects/{slug} endpoints (records_api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from crm.access.policy import require_admin
from crm.customization.models import CustomField, FieldType
from crm.objects import services
from crm.objects.models import KEY_PATTERN, SLUG_PATTERN, ObjectType
from crm.objects.record_schema import record_schema
from crm.objects.selectors import get_type

router = Router(tags=["object types"])
WHAT = "object types"


# A field definition as the CustomField model takes it (its choices, defaults and targets are checked
# against the type by the custom-field service).
FieldKey = Annotated[str, StringConstraints(max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
FieldLabel = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
FieldKind = Literal[tuple(FieldType.values)]


class FieldIn(Schema):
    key: FieldKey
    label: FieldLabel
    field_type: FieldKind
    required: bool = False
    default: object | None = None
    choices: list = Field(default_factory=list)
    help_text: Annotated[str, StringConstraints(max_length=255)] = ""
    target: Annotated[str, StringConstraints(max_length=30)] = ""
    unique: bool = False
    searchable: bool = False
    encrypted: bool = False


class FieldOut(FieldIn):
    order: int


# The model's rules (crm/objects/models.py), declared: what the schema allows, the model takes (but for
# the keys and slugs taken or reserved, and a name_field that is not one of the type's text fields).
TypeKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
TypeSlug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"\S")]
Icon = Annotated[str, StringConstraints(max_length=40)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-f]{6}$")]
Description = Annotated[str, StringConstraints(max_length=2000)]
NameField = FieldKey  # the key of one of its text fields


class ObjectTypeIn(Schema):
    key: TypeKey
    singular: Label
    plural: Label
    slug: TypeSlug
    icon: Icon = ""
    colour: Colour = "#6b7280"
    description: Description = ""
    name_field: NameField = Field("name", description="The key of the text field that names a record.")
    fields: list[FieldIn] = Field(default_factory=list, description="Created with the type.")


class ObjectTypePatch(Schema):
    key: str | None = Field(None, description="Never changes; sending another key is an error.")
    singular: Label | None = None
    plural: Label | None = None
    slug: TypeSlug | None = None
    icon: Icon | None = None
    colour: Colour | None = None
    description: Description | None = None
    name_field: NameField | None = None
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
