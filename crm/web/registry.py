"""The record types the web app lists and shows: a view of the registry (crm.core.recordtypes), the
declared types and the custom object types admins define at run time alike.

A list page's columns are the fields a declaration marks ``listed``; each filters and sorts through the
registry's fields, so a list page filters and sorts exactly like ``GET /api/v1/<slug>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.core import recordtypes
from crm.core.recordtypes import RecordField, RecordType
from crm.dataio.importers import importable


@dataclass(frozen=True)
class Column:
    label: str
    key: str  # attribute path on the record, or cf_<key>
    sort: str | None = None  # a sort name of the type
    filter: str | None = None  # a filter of the type, e.g. "name__contains"
    choices: tuple[tuple[str, str], ...] = ()  # a filter select instead of a text box


@dataclass(frozen=True)
class Kind:
    type: RecordType

    @property
    def slug(self) -> str:  # URL segment
        return self.type.slug

    @property
    def singular(self) -> str:
        return self.type.singular

    @property
    def plural(self) -> str:
        return self.type.plural

    @property
    def owner_filter(self) -> str:
        return self.type.owner_field

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(column_of(f) for f in self.type.fields if f.listed)

    @property
    def model(self):
        return self.type.model

    @property
    def object_type(self) -> str:
        return self.type.object_type

    @property
    def run_time(self) -> bool:
        return self.type.run_time

    @property
    def archived(self) -> bool:
        """An archived custom type: its records stay readable, nothing about them can change."""
        return bool(self.type.extra.get("archived"))

    @property
    def has_tags(self) -> bool:
        return self.type.tags  # the declaration says so (tests/test_recordtypes.py checks it matches the model)

    def objects(self):
        """The type's rows (custom records share one table: only this type's)."""
        return self.type.objects()


def column_of(f: RecordField) -> Column:
    """Text is filtered by "contains", a choice by a select; other kinds have no filter box."""
    if not f.filterable:
        where = None
    elif f.kind == "str":
        where = f"{f.name}__contains"
    elif f.kind == "choice":
        where = f.name
    else:
        where = None
    return Column(f.label, f.name, f.name if f.sortable else None, where, f.choices if f.kind == "choice" else ())


def kinds() -> dict[str, Kind]:
    return {rt.slug: Kind(rt) for rt in recordtypes.all_types() if rt.pages}


def kind(slug: str) -> Kind:
    rt = recordtypes.by_slug(slug)
    if rt is None or not rt.pages:
        raise KeyError(slug)
    return Kind(rt)


def kind_of(obj) -> Kind:
    """The kind of a record instance (for URLs)."""
    rt = recordtypes.of(obj)
    if rt is None or not rt.pages:
        raise KeyError(type(obj).__name__)
    return Kind(rt)


def slug_of_type(object_type: str) -> str | None:
    """The URL segment of a type with pages ("contact" -> "contacts"), or None."""
    rt = recordtypes.by_type(object_type)
    return rt.slug if rt and rt.pages else None


def menu_kinds(policy) -> list[Kind]:
    """The main menu's record types, in declaration order (built-in, then defined at run time): those
    with pages, not archived, that the user's role may view."""
    return [
        Kind(rt)
        for rt in recordtypes.all_types()
        if rt.pages and not rt.extra.get("archived") and policy.allows(rt.object_type, "view")
    ]


def may_import_any(policy) -> bool:
    """Whether the menu shows Imports: the role may add records of a type that can be imported."""
    return any(policy.allows(recordtypes.by_slug(slug).object_type, "add") for slug in importable())
