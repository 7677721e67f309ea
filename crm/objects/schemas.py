"""The API's shapes of a custom record: the same for every type (values are keyed by field), so one
set of endpoints serves them all; the type's own shape is its JSON Schema (record_schema.py)."""

import datetime as dt

from ninja import Field, Schema

from crm.customization import secrets


class RecordOut(Schema):
    """What the generic API answers: the record's attributes, and its values by field key."""

    id: int
    version: int
    name: str
    owner_id: int | None
    # Null when a role hides them (crm/access/fieldrules.py), as a hidden value in ``values`` is.
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    values: dict = Field(description="A value per field key; what the type's JSON Schema describes.")


class RecordRow(Schema):
    """A record as exports read it (crm/dataio/exporting.py: custom fields become cf_<key> columns)."""

    id: int
    name: str
    owner_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    custom_fields: dict


class RecordIn(Schema):
    owner_id: int | None = Field(None, description="Default: you.")
    values: dict = Field(default_factory=dict, description="A value per field key.")


class RecordPatch(Schema):
    owner_id: int | None = None
    values: dict = Field(default_factory=dict, description="The values to change; others stay.")
    version: int | None = Field(None, description="The version you read: 409 when it changed since.")


class RecordPage(Schema):
    items: list[RecordOut]
    next: str | None = None


class BulkItemOut(Schema):
    id: int
    created: bool
    record: RecordOut


class BulkOut(Schema):
    items: list[BulkItemOut]


def out(record) -> dict:
    return {
        "id": record.pk,
        "version": record.version,
        "name": record.name,
        "owner_id": record.owner_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "values": secrets.reveal(record.custom_fields),
    }


def service_data(payload: dict) -> dict:
    """The record services' flat data (a value per key, plus owner_id) from the API's body."""
    data = dict(payload.get("values") or {})
    if "owner_id" in payload:
        data["owner_id"] = payload["owner_id"]
    return data
