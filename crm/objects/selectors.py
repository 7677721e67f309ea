"""Reads of custom objects: every list, lookup and count of custom records starts from ``records_of``."""

from __future__ import annotations

from crm.core.errors import NotFound
from crm.objects.models import CustomRecord, ObjectType


def records_of(object_type: ObjectType, user, action: str = "view"):
    """The records of one type that ``user`` may ``action``: the role's grant and scope for the type's key."""
    return CustomRecord.objects.of_type(object_type).restrict(user, action)


def get_type(key: str) -> ObjectType:
    found = ObjectType.objects.filter(key=key).first()
    if found is None:
        raise NotFound(f"No object type with key {key!r}.")
    return found


def get_record(object_type: ObjectType, user, pk, action: str = "view") -> CustomRecord:
    """A record ``user`` may ``action``; NotFound whether it is hidden or missing."""
    try:
        return records_of(object_type, user, action).select_related("type").get(pk=pk)
    except (CustomRecord.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No {object_type.singular} with id {pk}.") from None
