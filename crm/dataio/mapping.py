"""Which column feeds which field: suggested from header names, editable, and saved with each batch or
under a name (saved_mappings.py). A type's targets and their header spellings are its importer's
(``Importer.synonyms``, found through the record-type registry: crm.dataio.importers); its custom
fields are fed by key or label (``cf_<key>``)."""

from __future__ import annotations

import re

from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.customization.validation import definitions
from crm.dataio.importers import importer_of
from crm.dataio.importers.synonyms import GENERIC_TARGETS

IGNORE = ""  # a column mapped to "" is not imported


def _importer(slug: str):
    rt = recordtypes.by_slug(slug)
    return importer_of(rt) if rt is not None else None


def targets(object_type: str) -> dict[str, list[str]]:
    """The type's own targets (other than its custom fields) with their header spellings."""
    importer = _importer(object_type)
    return importer.synonyms if importer is not None else GENERIC_TARGETS


def squash(text: str) -> str:
    return re.sub(r"[\s_\-./:]+", "", text.lower())


def suggest(object_type: str, header: list[str]) -> dict[str, str]:
    """header -> target for every column we recognise (custom fields by key or label), else ""."""
    lookup = {squash(s): target for target, spellings in targets(object_type).items() for s in spellings}
    lookup.update({squash(t): t for t in targets(object_type)})
    for key, field in definitions(record_type(object_type)).items():
        lookup[squash(key)] = lookup[squash(field.label)] = f"cf_{key}"
    own_prefix = getattr(_importer(object_type), "own_prefix", None)
    used, out = set(), {}
    for column in header:
        target = lookup.get(squash(column), IGNORE)
        prefixed = own_prefix.match(column) if own_prefix else None
        if not target and prefixed:
            target = lookup.get(squash(prefixed[1]), IGNORE)
        if target in used:  # a second "Email" spelling does not overwrite the first
            target = IGNORE
        used.add(target)
        out[column] = target
    return out


def validate(object_type: str, header: list[str], mapping: dict) -> dict[str, str]:
    """A user's mapping: only known columns and targets, each target at most once."""
    if not isinstance(mapping, dict):
        raise ValidationFailed({"mapping": "Must be an object of column header to field."})
    known = set(targets(object_type)) | {f"cf_{k}" for k in definitions(record_type(object_type))}
    errors, seen = {}, {}
    for column, target in mapping.items():
        if column not in header:
            errors[f"mapping.{column}"] = "No such column in the file."
        elif target and target not in known:
            errors[f"mapping.{column}"] = f"Unknown field {target!r}."
        elif target and target in seen:
            errors[f"mapping.{column}"] = f"{target} is already fed by column {seen[target]!r}."
        elif target:
            seen[target] = column
    if errors:
        raise ValidationFailed(errors)
    return {c: mapping.get(c, IGNORE) or IGNORE for c in header}


def custom_keys(object_type: str) -> list[str]:
    return sorted(definitions(record_type(object_type)))


def record_type(slug: str) -> str:
    """The type's object type ("contacts" -> "contact")."""
    return recordtypes.by_slug(slug).object_type
