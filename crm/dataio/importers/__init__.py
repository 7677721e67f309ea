"""How a file row becomes a record type's service data: the importer of each type comes from the
record-type registry (crm.core.recordtypes). A type names its own importer class (``importer``, a
dotted path: the built-in types); any other type with importable fields (a custom object type, or a
type declared without an importer) gets the generic one built from its fields (generic.py,
declared.py). Nothing here keeps a list of types."""

from __future__ import annotations

from django.utils.module_loading import import_string

from crm.core import recordtypes
from crm.core.errors import BadRequest


def importer_of(rt) -> type | None:
    """The importer class of a record type, or None when its records cannot be imported from a file."""
    if rt.importer:
        return import_string(rt.importer)
    # An archived type's records cannot change: nothing can be imported into it.
    if not rt.extra.get("archived") and any(f.importable for f in rt.fields):
        from crm.dataio.importers.generic import importer_for_type  # it imports this package's base

        return importer_for_type(rt)
    return None


def importable() -> dict[str, type]:
    """slug -> importer class, for every type whose records can be imported."""
    found = {rt.slug: importer_of(rt) for rt in recordtypes.all_types()}
    return {slug: importer for slug, importer in found.items() if importer is not None}


def can_import(slug: str) -> bool:
    rt = recordtypes.by_slug(slug)
    return rt is not None and importer_of(rt) is not None


def importer_for(slug: str, field: str = "type") -> type:
    """The importer of the type at ``slug``; a BadRequest listing the importable slugs otherwise."""
    rt = recordtypes.by_slug(slug) if isinstance(slug, str) else None
    importer = importer_of(rt) if rt is not None else None
    if importer is None and rt is not None and rt.extra.get("archived"):
        raise BadRequest(f"{rt.plural.capitalize()} are archived: their records cannot change.", fields={field: slug})
    if importer is None:
        raise BadRequest(f"Cannot import {slug!r}.", fields={field: ", ".join(importable())})
    return importer
