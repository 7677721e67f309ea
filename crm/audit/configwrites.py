"""Saving objects that are not records (roles, custom field definitions, pipelines, stages, saved
views) the way record services save records: validated, then logged in the change log.

They have no version, search entry or domain events, so this is all a write of one needs. The
calling service checks who may make the write first and runs these inside its transaction; the
object's model names its change-log type in ``change_log_type`` (see changelog.type_of).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import models

from crm.audit import changelog
from crm.core.errors import NotFound, ValidationFailed


def clean(obj: models.Model) -> None:
    """Django's full validation, unique fields and constraints included (nothing is checked twice
    per batch here, unlike the bulk record paths), as a ValidationFailed with a message per field."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationFailed({k: " ".join(v) for k, v in exc.message_dict.items()}) from None


def create(obj: models.Model, *, actor, check: Callable | None = None) -> models.Model:
    """``check(obj)``: the service's own rules beyond the model's (raises ValidationFailed)."""
    if check is not None:
        check(obj)
    clean(obj)
    obj.save(force_insert=True)
    changelog.log_create(actor, obj)
    return obj


def locked(model, pk):
    """The row as stored, locked until the transaction ends: the "before" of an update is what was
    really there, not what a form already copied onto the caller's object."""
    found = model.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return found


def update(
    obj: models.Model, *, actor, data: dict, fields: Iterable[str], check: Callable | None = None
) -> models.Model:
    """Set the ``fields`` present in ``data`` on the stored row, validate, save, log what changed."""
    fresh = locked(type(obj), obj.pk)
    before = changelog.snapshot(fresh)
    for name in fields:
        if name in data:
            setattr(fresh, name, data[name])
    if check is not None:
        check(fresh)
    clean(fresh)
    fresh.save()
    changelog.log_update(actor, fresh, before)
    return fresh


def delete(obj: models.Model, *, actor) -> None:
    fresh = locked(type(obj), obj.pk)
    changelog.log_delete(actor, fresh, changelog.snapshot(fresh))
    fresh.delete()
