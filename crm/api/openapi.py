"""What the OpenAPI document says about the record lists' query, beyond what Ninja reads from the handlers.

A list reads its filters, ``sort``, ``limit`` and ``q`` itself (crm.records.selectors, crm.api.crud), so
Ninja knows only their names. Here each list operation gets them from the same declarations the code
checks them with: the filters from ``filter_fields_of`` (a choice as an enum of its values), the sorts
from the record type, the custom fields defined now (the document is built per request), the page size
from the setting. A value this schema allows is one the list accepts; one outside it is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from django.conf import settings
from pydantic import Field as PydanticField

from crm.api.patterns import NO_NUL
from crm.core import recordtypes
from crm.core.filters import DECIMAL_EXPONENT_LIMIT, INT_MAX, INT_MIN, OPS, Field, filter_fields_of

QUERY_MAX_LENGTH = 200  # ?q=: a query, not a document (crm.api.crud.list_records checks it)
CHANGES_MAX_LIMIT = 500  # a record's change log, per request
# A decimal the filter language compares: finite, with an exponent the databases can hold.
DECIMAL = f"^-?[0-9]{{1,{DECIMAL_EXPONENT_LIMIT}}}(\\.[0-9]{{1,{DECIMAL_EXPONENT_LIMIT}}})?$"


def value_schema(field: Field) -> dict:
    """The JSON Schema of one filter value (``?name=value``), as crm.core.filters converts it."""
    if field.via is not None or field.kind == "int":
        return {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
    if field.kind == "choice" and field.choices:
        return {"type": "string", "enum": list(field.choices)}
    return {
        "decimal": {"type": "string", "pattern": DECIMAL},
        "bool": {"type": "string", "enum": ["true", "false", "1", "0"]},
        "date": {"type": "string", "format": "date"},
        "datetime": {"type": "string", "format": "date-time"},
        "uuid": {"type": "string", "format": "uuid"},
    }.get(field.kind, {"type": "string", "pattern": NO_NUL})


def _custom_kinds(rt) -> dict[str, str]:
    return recordtypes.custom_field_kinds(rt.object_type)


def filter_parameters(rt) -> list[dict]:
    fields = dict(filter_fields_of(rt))
    for key, kind in _custom_kinds(rt).items():
        # As crm.core.filters reads them: a money field compares its amount, a multi-choice one a text.
        fields[f"cf_{key}"] = Field(f"custom_fields__{key}", {"money": "decimal", "multi": "str"}.get(kind, kind))
    ops = ", ".join(sorted(OPS - {"eq"}))
    return [
        {
            "in": "query",
            "name": name,
            "required": False,
            "schema": value_schema(field),
            "description": f"Records whose {name} equals this; `{name}__<op>` for other operators ({ops}).",
        }
        for name, field in fields.items()
    ]


def sort_values(rt) -> list[str]:
    custom = [f"cf_{key}" for key, kind in _custom_kinds(rt).items() if kind not in ("multi", "hashed")]
    names = [*rt.sorts, *custom]
    return [v for name in names for v in (name, f"-{name}")]


def page_parameters(rt) -> dict[str, dict]:
    return {
        "limit": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE, "default": 50},
        "sort": {"type": "string", "enum": sort_values(rt), "default": rt.api.default_sort},
        "q": {"type": "string", "maxLength": QUERY_MAX_LENGTH, "pattern": NO_NUL},
    }


def declare_lists(schema: dict) -> None:
    """Add each record list's filters and the bounds of its paging parameters to ``schema`` in place."""
    operations = {op.get("operationId"): op for ops in schema["paths"].values() for op in ops.values()}
    for rt in recordtypes.declared_types():  # custom types share /objects/{slug}: one operation for all
        op = operations.get(f"list_{rt.slug.replace('-', '_')}")
        if op is None:
            continue
        bounds = page_parameters(rt)
        params = [p for p in op.get("parameters", []) if p["name"] not in bounds or p["in"] != "query"]
        for p in op.get("parameters", []):
            if p["in"] == "query" and p["name"] in bounds:
                params.append({**p, "schema": bounds[p["name"]]})
        declared = {p["name"] for p in params}
        op["parameters"] = params + [p for p in filter_parameters(rt) if p["name"] not in declared]
        changes = operations.get(f"{rt.singular.replace(' ', '_')}_changes")
        for p in changes.get("parameters", []) if changes else ():
            if p["name"] == "limit":
                p["schema"] = {**p["schema"], "minimum": 1, "maximum": CHANGES_MAX_LIMIT}


RECORD_TYPE_KEY = "x-record-type-key"  # set by bodies naming a record type (crm/automation/api_schemas.py)
NAMES_OF = "x-names-of"  # set by names_of: the enum is listed when the document is served
_NAMES: dict[str, Callable[[], Iterable[str]]] = {}


def names_of(name: str, values: Callable[[], Iterable[str]]):
    """A text parameter or field that must be one of ``values()`` (record types by slug or key, which
    the registry knows only at run time): the code checks it and answers a clear error as before; the
    document lists the values that exist when it is served, so a schema-valid value is an accepted one."""
    _NAMES[name] = values
    return Annotated[str, PydanticField(json_schema_extra={NAMES_OF: name})]


def declared(**schema):
    """A query parameter the handler checks itself, answering 400 naming it (as every unusable list
    parameter; a 422 is for bodies): the document says what it takes (minimum, maximum, pattern)."""
    return PydanticField(json_schema_extra=schema)


def bounded(low: int, high: int):
    return Annotated[int, declared(minimum=low, maximum=high)]


def declare_record_type_names(schema: dict) -> None:
    """A string marked as a record type's key becomes an enum of the keys that exist now: custom object
    types come and go at run time, so the list is written when the document is served. The same for
    the strings marked by ``names_of``, in bodies and in parameters."""
    keys = list(recordtypes.object_types())
    listed: dict[str, list[str]] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.pop(RECORD_TYPE_KEY, False):
                node["enum"] = keys
            if name := node.pop(NAMES_OF, None):
                node["enum"] = listed.setdefault(name, list(dict.fromkeys(_NAMES[name]())))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema.get("components", {}))
    walk(schema.get("paths", {}))
