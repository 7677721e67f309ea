"""Column mappings saved under a name ("HubSpot deals export"), to import the next file from the same
source without mapping it again.

A saved mapping belongs to an object type. Using or saving one needs the "add" permission on that type
(the permission an import needs); replacing or deleting someone else's needs an admin. Targets are
checked when saving (known fields and custom fields, each at most once); the columns are checked
against a file only when the mapping is used, by the import itself. Ignored columns are not stored,
so a file that lacks them still fits.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from crm.access.policy import policy_for
from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.dataio import importing, mapping
from crm.dataio.importers import importable, importer_for
from crm.dataio.models import ImportMapping

NAME_MAX = 100
COLUMN_MAX = 255


def _require(actor, object_type: str) -> None:
    importing.require(actor, importer_for(object_type, field="object_type"), "add")


def checked(object_type: str, columns) -> dict[str, str]:
    """The mapping with its ignored columns left out; unknown or repeated targets are field errors."""
    if not isinstance(columns, dict) or not columns:
        raise ValidationFailed({"mapping": "Must be a non-empty object of column header to field."})
    targets = set(mapping.targets(object_type)) | {f"cf_{k}" for k in mapping.custom_keys(object_type)}
    errors, seen, out = {}, {}, {}
    for column, target in columns.items():
        where = f"mapping.{column}"
        if not isinstance(column, str) or not column.strip() or len(column) > COLUMN_MAX:
            errors[where] = f"A column header is 1 to {COLUMN_MAX} characters."
        elif target in (None, ""):
            continue
        elif not isinstance(target, str) or target not in targets:
            errors[where] = f"Unknown field {target!r}."
        elif target in seen:
            errors[where] = f"{target} is already fed by column {seen[target]!r}."
        else:
            seen[target] = column
            out[column.strip()] = target
    if errors:
        raise ValidationFailed(errors)
    if not out:
        raise ValidationFailed({"mapping": "No column is mapped to a field."})
    return out


def _name(name) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed({"name": f"Give a name of 1 to {NAME_MAX} characters."})
    return name


def save(*, actor, object_type: str, name: str, columns: dict) -> tuple[ImportMapping, bool]:
    """Create the mapping, or replace the one of that name; returns (mapping, created)."""
    _require(actor, object_type)
    name, columns = _name(name), checked(object_type, columns)
    try:
        with transaction.atomic():
            existing = ImportMapping.objects.select_for_update().filter(object_type=object_type, name=name).first()
            if existing is None:
                saved = ImportMapping.objects.create(
                    object_type=object_type, name=name, mapping=columns, created_by=actor
                )
                return saved, True
            _check_owner(existing, actor, "replace")
            existing.mapping = columns
            existing.save(update_fields=["mapping"])
            return existing, False
    except IntegrityError:  # saved by someone else between our read and our insert
        raise Conflict(f"A mapping named {name!r} was just saved by someone else; try again.") from None


def listed(*, actor, object_type: str | None = None):
    """The saved mappings of one object type, or of every type the user may import."""
    if object_type:
        _require(actor, object_type)
        types = [object_type]
    else:
        policy = policy_for(actor)
        types = [t for t, spec in importable().items() if policy.allows(spec.record_type().object_type, "add")]
    return ImportMapping.objects.filter(object_type__in=types).select_related("created_by").order_by("name", "id")


def get(*, actor, object_type: str, name: str) -> ImportMapping:
    _require(actor, object_type)
    found = ImportMapping.objects.filter(object_type=object_type, name=(name or "").strip()).first()
    if found is None:
        raise NotFound(f"No saved mapping named {name!r} for {object_type}.")
    return found


def get_by_id(*, actor, pk: int) -> ImportMapping:
    found = ImportMapping.objects.filter(pk=pk).first()
    if found is None or not _may_use(actor, found.object_type):
        raise NotFound(f"No saved mapping with id {pk}.")
    return found


def delete(saved: ImportMapping, *, actor) -> None:
    _check_owner(saved, actor, "delete")
    saved.delete()


def _may_use(actor, object_type: str) -> bool:
    spec = importable().get(object_type)
    return spec is not None and policy_for(actor).allows(spec.record_type().object_type, "add")


def _check_owner(saved: ImportMapping, actor, verb: str) -> None:
    if saved.created_by_id != actor.pk and not policy_for(actor).is_admin:
        raise PermissionDenied(f"Only the user who saved mapping {saved.name!r}, or an admin, may {verb} it.")


def as_dict(saved: ImportMapping) -> dict:
    return {
        "id": saved.pk,
        "object_type": saved.object_type,
        "name": saved.name,
        "mapping": saved.mapping,
        "created_by": saved.created_by.username if saved.created_by else None,
        "created_at": saved.created_at.isoformat(),
    }
