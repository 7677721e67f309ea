"""What custom object types add to the rules of their field definitions (crm.customization.services
calls this for every change): a field key is not one of a record's own attributes, the name field stays
a text field, and a field becomes unique only when no two records already share a value."""

from __future__ import annotations

from collections import Counter

from crm.customization import values
from crm.customization.models import CustomField, FieldType
from crm.objects.models import ObjectType

# A custom record's own attributes: its data and output name them beside the field values.
RECORD_ATTRIBUTES = {"id", "version", "owner", "owner_id", "type", "created_at", "updated_at", "custom_fields"}
# A list's parameters that are not filters (crm/records/selectors.py, exports): a field of that key
# could not be filtered by its key.
LIST_PARAMETERS = {"q", "sort", "limit", "cursor", "format", "values"}


def field_change_refused(stored: CustomField | None, changed: CustomField | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if changed is not None and changed.key in RECORD_ATTRIBUTES and _is_custom_type(changed.object_type):
        errors["key"] = f"{changed.key!r} is a record attribute of every custom object; choose another key."
    elif changed is not None and changed.key in LIST_PARAMETERS and _is_custom_type(changed.object_type):
        errors["key"] = f"{changed.key!r} is a parameter of record lists; choose another key."
    if stored is not None:
        errors |= _name_field_kept(stored, changed)
    if changed is not None and changed.unique and not (stored is not None and stored.unique):
        errors |= _no_duplicates(stored or changed)
    return errors


def _name_field_kept(stored: CustomField, changed: CustomField | None) -> dict[str, str]:
    owner = ObjectType.objects.filter(key=stored.object_type, name_field=stored.key).first()
    if owner is None:
        return {}
    if changed is None:
        return {"key": f"{stored.key} is the name field of {owner.plural}: choose another name field first."}
    moved = (changed.key, changed.object_type) != (stored.key, stored.object_type)
    if moved or changed.field_type != FieldType.TEXT:
        return {"field_type": f"{stored.key} is the name field of {owner.plural}: it stays a text field."}
    if changed.encrypted:  # its value is copied in clear to the record's name column for lists and sorting
        return {"encrypted": f"{stored.key} is the name field of {owner.plural}: it cannot be encrypted."}
    return {}


def _no_duplicates(field: CustomField) -> dict[str, str]:
    counts = Counter(value for _pk, value in values.stored(field))
    shared = [v for v, n in counts.items() if n > 1]
    if not shared:
        return {}
    shown = ", ".join(repr(v) for v in shared[:20])
    return {"unique": f"{len(shared)} values are held by more than one record: {shown}."}


def _is_custom_type(key: str) -> bool:
    return ObjectType.objects.filter(key=key).exists()
