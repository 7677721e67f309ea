"""A JSON Schema (draft 2020-12) of one record of a custom object type, built from its field
definitions: what a client or an importer may check before it writes. It describes the record as the
generic API (/api/v1/objects/{slug}, crm/objects/records_api.py) reads and writes it: the record's own
attributes, and its values by field key under ``values`` (so a field key never meets an attribute)."""

from __future__ import annotations

from crm.customization.models import CustomField, FieldType
from crm.customization.validation import LONG_TEXT_MAX, TEXT_MAX
from crm.objects.models import ObjectType

DIALECT = "https://json-schema.org/draft/2020-12/schema"
INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
MONEY = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    "required": ["amount", "currency"],
    "additionalProperties": False,
}
SHAPES = {
    FieldType.TEXT: {"type": "string", "maxLength": TEXT_MAX},
    FieldType.LONG_TEXT: {"type": "string", "maxLength": LONG_TEXT_MAX},
    FieldType.INTEGER: INT64,
    FieldType.DECIMAL: {"type": "number"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.DATETIME: {"type": "string", "format": "date-time"},
    FieldType.URL: {"type": "string", "format": "uri"},
    FieldType.EMAIL: {"type": "string", "format": "email"},
    FieldType.PHONE: {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$"},  # stored as E.164
    FieldType.USER: {"type": "integer", "x-target": "user"},
    FieldType.MONEY: MONEY,
}
# The record's own attributes beside its values.
ATTRIBUTES = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "name": {"type": "string", "readOnly": True, "description": "The name field's value."},
    "owner_id": {"type": ["integer", "null"], "title": "Owner"},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
}


def record_schema(object_type: ObjectType) -> dict:
    fields = list(CustomField.objects.filter(object_type=object_type.key).order_by("order", "id"))
    schema = {
        "$schema": DIALECT,
        "$id": f"/api/v1/settings/object-types/{object_type.key}/schema",
        "title": object_type.singular,
        "type": "object",
        "properties": dict(ATTRIBUTES) | {"values": values_schema(fields)},
        "required": ["values"],
        "additionalProperties": False,
    }
    if object_type.description:
        schema["description"] = object_type.description
    return schema


def values_schema(fields: list[CustomField]) -> dict:
    return {
        "type": "object",
        "title": "Values",
        "properties": {f.key: field_schema(f) for f in fields},
        "required": [f.key for f in fields if f.required],
        "additionalProperties": False,
    }


def field_schema(field: CustomField) -> dict:
    schema = {"title": field.label, **_shape(field)}
    if field.help_text:
        schema["description"] = field.help_text
    if field.default is not None:
        schema["default"] = field.default
    if field.unique:
        schema["x-unique"] = True
    return schema if field.required else _nullable(schema)


def _shape(field: CustomField) -> dict:
    kind = field.field_type
    if kind == FieldType.CHOICE:
        return {"enum": list(field.choices)}
    if kind == FieldType.MULTI_CHOICE:
        return {"type": "array", "items": {"enum": list(field.choices)}, "uniqueItems": True}
    if kind == FieldType.LOOKUP:
        return {"type": "integer", "x-target": field.target}  # the id of a record of the target type
    return dict(SHAPES[kind])


def _nullable(schema: dict) -> dict:
    """An optional value may be absent or null (a cleared value is stored as null)."""
    if "enum" in schema:
        return schema | {"enum": [*schema["enum"], None]}
    return schema | {"type": [schema["type"], "null"]}
