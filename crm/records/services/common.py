"""What every record service shares: permission checks, field assignment, save, change log, index.

The entity services (companies.py, contacts.py, ...) call these, so a rule enforced here holds
for the API, the web app, imports and automation alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.audit import changelog
from crm.core import clock, events, recordtypes
from crm.core.bounds import out_of_bounds
from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.core.normalize import InvalidValue
from crm.customization.validation import clean_custom_fields
from crm.records.models import Tag
from crm.records.services import links
from crm.search import index as search_index


@dataclass
class Saved:
    """A service's result: the record, plus warnings for the caller (possible duplicates)."""

    obj: models.Model
    duplicates: list[dict] = field(default_factory=list)


def require(actor, model, action: str, data: dict | None = None) -> None:
    """The role grants ``action`` on the type, and (with the write's ``data``) its field rules let it
    set every field the data names (crm/access/fieldrules.py)."""
    policy = policy_for(actor)
    if not policy.allows(model.object_type, action):
        raise PermissionDenied(f"You may not {action} {model._meta.verbose_name_plural}.")
    if data is not None:
        guard_fields(actor, model.object_type, data)


def guard_fields(actor, object_type: str, data: dict) -> None:
    """ValidationFailed naming the keys of ``data`` that set a field hidden from or read-only for the
    actor's role; every create and update service calls this (through require/lock_for_write)."""
    rt = recordtypes.by_type(object_type)
    if rt is not None:
        fieldrules.refuse_writes(policy_for(actor), rt, data)


def get_visible(model_or_qs, actor, pk, action: str = "view"):
    """The record if ``actor`` may ``action`` it; otherwise NotFound, whether or not it exists.

    Takes a model, or a queryset of one (to keep its select_related/prefetch)."""
    qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs.objects.all()
    model = qs.model
    try:
        return qs.restrict(actor, action).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.") from None


def lock_for_write(obj, *, actor, action: str, version: int | None, data: dict | None = None):
    """The record re-read under a write lock, if ``actor`` may ``action`` ("change", "delete") it. Each
    update and delete service checks this itself, so a caller that forgot cannot open a hole: a record
    the actor cannot see is a 404, one they see (through a link, say) but may not touch is a 403.
    ``data``: an update's data, checked against the role's field rules."""
    model = type(obj)
    require(actor, model, action, data)
    if not model.objects.restrict(actor, action).filter(pk=obj.pk).exists():
        if model.objects.restrict(actor, "view").filter(pk=obj.pk).exists():
            raise PermissionDenied(f"You may not {action} this {model._meta.verbose_name}.")
        raise NotFound(f"No {model._meta.verbose_name} with id {obj.pk}.")
    return lock_for_update(obj, version=version)


def lock_for_update(obj, *, version: int | None):
    """Re-read the row under a write lock and refuse a stale version (409)."""
    fresh = type(obj).objects.select_for_update().get(pk=obj.pk)
    if version is not None and fresh.version != version:
        raise Conflict(
            f"This {obj._meta.verbose_name} was changed by someone else (version {fresh.version}, "
            f"you sent {version}). Reload it and apply your change again.",
            code="version_conflict",
            fields={"version": str(fresh.version)},
        )
    return fresh


def assign(obj, data: dict, names: Iterable[str]) -> None:
    for name in names:
        if name in data:
            value = data[name]
            setattr(obj, name, "" if value is None and _is_text(obj, name) else value)


def _is_text(obj, name: str) -> bool:
    f = obj._meta.get_field(name)
    return isinstance(f, models.CharField | models.TextField) and not f.null


def normalized(data: dict, key: str, fn, errors: dict, *, optional: bool = True) -> None:
    """Replace data[key] by fn(data[key]) in place, collecting a message on failure."""
    if key not in data or (optional and data[key] in (None, "")):
        if key in data:
            data[key] = ""
        return
    try:
        data[key] = fn(data[key])
    except InvalidValue as exc:
        errors[key] = str(exc)


def resolve_related(data: dict, key: str, model, actor, errors: dict) -> None:
    """Turn ``<key>_id`` into ``<key>``: a related record the actor can see, else a field error."""
    id_key = f"{key}_id"
    if id_key not in data:
        return
    pk = data.pop(id_key)
    if pk is None:
        data[key] = None
        return
    try:
        data[key] = model.objects.restrict(actor, "view").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        errors[id_key] = f"No {model._meta.verbose_name} with id {pk}."


def resolve_user(data: dict, key: str, errors: dict) -> None:
    id_key = f"{key}_id"
    if id_key not in data:
        return
    pk = data.pop(id_key)
    if pk is None:
        data[key] = None
        return
    user = get_user_model().objects.filter(pk=pk, is_active=True).first() if isinstance(pk, int) else None
    if user is None:
        errors[id_key] = f"No active user with id {pk}."
    data[key] = user


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationFailed(errors)


def full_clean(obj) -> None:
    """The model's validation, then the declared bounds of its numbers (crm/core/bounds.py)."""
    errors = {}
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    errors |= out_of_bounds(obj, skip=errors)
    if errors:
        raise ValidationFailed(errors)


def apply_custom_fields(obj, data: dict, *, creating: bool) -> None:
    if "custom_fields" in data or creating:
        obj.custom_fields = clean_custom_fields(
            obj.object_type, data.get("custom_fields"), current=None if creating else obj.custom_fields
        )


def set_tags(obj, names: list[str] | None) -> None:
    if names is None:
        return
    tags = []
    for raw in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        if len(raw) > 50:
            raise ValidationFailed({"tags": f"Tag {raw[:20]!r}… is longer than 50 characters."})
        tag = Tag.objects.filter(name__iexact=raw).first() or Tag.objects.create(name=raw)
        tags.append(tag)
    obj.tags.set(tags)


def save_new(obj, *, actor) -> None:
    now = clock.now()
    obj.created_at = obj.updated_at = now
    obj.version = 1
    obj.save(force_insert=True)


def save_existing(obj) -> None:
    obj.version += 1
    obj.updated_at = clock.now()
    obj.save(force_update=True)


def ensure_visible(obj, actor) -> None:
    """After a write, the actor must still see the record; otherwise the transaction rolls back.

    This stops a user creating or moving a record where they could not see it (NetBox's rule).
    """
    if not type(obj).objects.restrict(actor, "view").filter(pk=obj.pk).exists():
        raise PermissionDenied("You may not save a record you would not be able to see (check the owner).")


def finish_create(obj, actor) -> None:
    ensure_visible(obj, actor)
    search_index.update(obj)
    entry = changelog.log_create(actor, obj)
    events.emit("record.created", obj, actor=actor, changes=entry.changes)


def finish_update(obj, actor, before: dict) -> None:
    ensure_visible(obj, actor)
    search_index.update(obj)
    entry = changelog.log_update(actor, obj, before)
    if entry is not None:
        events.emit("record.updated", obj, actor=actor, changes=entry.changes)


def delete_record(obj, *, actor, version: int | None = None) -> None:
    """Delete with its change log entry, if the actor may; the caller runs this inside a transaction."""
    obj = lock_for_write(obj, actor=actor, action="delete", version=version)
    before = changelog.snapshot(obj)
    pk = obj.pk
    search_index.remove(obj)
    entry = changelog.log_delete(actor, obj, before)
    links.unlink(obj.object_type, [pk])
    obj.delete()
    obj.pk = pk
    events.emit("record.deleted", obj, actor=actor, changes=entry.changes)
