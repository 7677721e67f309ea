"""Checks shared by the admin-only automation settings (webhook subscriptions, web forms).

The API's schemas only check types, so these run in the services: a value the database would refuse
(too long, NULL, NUL, a missing row) becomes a 422 naming the field instead of a database error (a 500).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from crm.core.errors import ValidationFailed
from crm.core.normalize import has_nul

MAX_ID = 2**63 - 1  # a 64-bit key: a larger number overflows the database driver
NUL = "Must not contain NUL (\\u0000) characters."


def refuse_nulls(data: dict, names) -> None:
    """An explicit null for a column that cannot be empty (PATCH {"name": null}) is a 422, not NOT NULL."""
    errors = {name: "Must not be null." for name in names if name in data and data[name] is None}
    if errors:
        raise ValidationFailed(errors)


def check_model(obj, *, exclude=(), errors: dict | None = None) -> None:
    """The model's own field rules (length, blank, slug, choices) and no NUL (PostgreSQL refuses it in
    text and JSON); raises one ValidationFailed with these and the caller's ``errors``."""
    errors = dict(errors or {})
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, " ".join(messages))
    for field in obj._meta.concrete_fields:
        if has_nul(getattr(obj, field.attname)):
            errors.setdefault(field.name, NUL)
    if errors:
        raise ValidationFailed(errors)


def valid_id(pk) -> bool:
    return isinstance(pk, int) and not isinstance(pk, bool) and 1 <= pk <= MAX_ID


def active_user(pk):
    """The active user with this id, or None (an id out of range is simply not found)."""
    return get_user_model().objects.filter(pk=pk, is_active=True).first() if valid_id(pk) else None
