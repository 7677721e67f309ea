"""Custom object type definitions: admins only, each write locked and change-logged like the other
settings (crm/audit/configwrites.py). A type's key never changes: it is the permission key of its
records, the object type of their change-log rows and of its field definitions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.access.models import Role
from crm.access.policy import require_admin
from crm.access.services import role_update
from crm.audit import changelog, configwrites
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField, FieldType
from crm.customization.services import ConfirmRequired, custom_field_create
from crm.objects.models import CustomRecord, ObjectType
from crm.objects.reserved import reserved
from crm.records.services import links
from crm.search import index as search_index

FIELDS = ("key", "singular", "plural", "slug", "icon", "colour", "description", "name_field")
CHANGEABLE = tuple(f for f in FIELDS if f != "key")
CHUNK = 1000


def check(object_type: ObjectType, *, creating: bool = False) -> None:
    """Key and slug are not reserved; the name field is one of the type's text fields (a new type's
    name field is created with it, so it is checked after its fields)."""
    taken = reserved()
    errors = {name: f"{getattr(object_type, name)!r} is reserved." for name in ("key", "slug")}
    errors = {name: message for name, message in errors.items() if getattr(object_type, name) in taken}
    if object_type.colour:
        object_type.colour = object_type.colour.lower()
    if not creating and "name_field" not in errors:
        errors |= _name_field_errors(object_type)
    if errors:
        raise ValidationFailed(errors)


def _name_field_errors(object_type: ObjectType) -> dict[str, str]:
    field = CustomField.objects.filter(object_type=object_type.key, key=object_type.name_field).first()
    if field is None or field.field_type != FieldType.TEXT:
        return {"name_field": f"Must be the key of one of the type's text fields, not {object_type.name_field!r}."}
    return {}


@transaction.atomic
def object_type_create(*, actor, data: dict) -> ObjectType:
    """A new type with its fields (``data["fields"]``, a list of definitions). The name field
    (``name_field``, default "name") is created as a required text field unless the list has it."""
    require_admin(actor, "object types")
    data = {"name_field": "name", **data}
    object_type = ObjectType(**{k: data[k] for k in FIELDS if k in data})
    configwrites.create(object_type, actor=actor, check=lambda t: check(t, creating=True))
    fields = list(data.get("fields") or [])
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise ValidationFailed({"fields": "Must be a list of field definitions."})
    if not any(f.get("key") == object_type.name_field for f in fields):
        name = {"key": object_type.name_field, "label": "Name", "field_type": "text", "required": True}
        _create_field(actor, object_type, name, None)
    for i, spec in enumerate(fields):
        _create_field(actor, object_type, spec, i)
    if errors := _name_field_errors(object_type):
        raise ValidationFailed(errors)
    return object_type


def _create_field(actor, object_type: ObjectType, spec: dict, i: int | None) -> None:
    """A field error names the field's place in the caller's list (``fields.2.field_type``); ``i`` is
    None for the name field made for them (an error there is its ``name_field``'s)."""
    try:
        custom_field_create(
            actor=actor, data={"order": 0 if i is None else i + 1, **spec, "object_type": object_type.key}
        )
    except ValidationFailed as exc:
        where = "name_field" if i is None else None
        raise ValidationFailed({where or f"fields.{i}.{k}": v for k, v in exc.fields.items()} or exc.message) from None


@transaction.atomic
def object_type_update(object_type: ObjectType, *, actor, data: dict) -> ObjectType:
    """``data`` holds the changed attributes, and ``archived`` (true or false) to archive or restore."""
    require_admin(actor, "object types")
    if "key" in data and data["key"] != object_type.key:
        raise ValidationFailed({"key": "A type's key never changes (its permissions and change log use it)."})
    before = configwrites.locked(ObjectType, object_type.pk)
    changes = {k: v for k, v in data.items() if k in CHANGEABLE}
    if "archived" in data and bool(data["archived"]) != before.archived:
        changes["archived_at"] = timezone.now() if data["archived"] else None
    if changes:
        changes["updated_at"] = timezone.now()
    fields = (*CHANGEABLE, "archived_at", "updated_at")
    saved = configwrites.update(before, actor=actor, data=changes, fields=fields, check=check)
    if saved.name_field != before.name_field:
        _sync_names(saved)
    return saved


def _sync_names(object_type: ObjectType) -> None:
    """``name`` copies the name field's value (text, at most 255 characters) for sorting and display."""
    value = Coalesce(KT(f"custom_fields__{object_type.name_field}"), Value(""))
    CustomRecord.objects.filter(type=object_type).update(name=value)


def object_type_archive(object_type: ObjectType, *, actor) -> ObjectType:
    """An archived type keeps its records for reading; the record services refuse writes to it."""
    return object_type_update(object_type, actor=actor, data={"archived": True})


def object_type_unarchive(object_type: ObjectType, *, actor) -> ObjectType:
    return object_type_update(object_type, actor=actor, data={"archived": False})


@transaction.atomic
def object_type_delete(object_type: ObjectType, *, actor, confirm: bool = False) -> int:
    """Refused while records exist unless ``confirm``: then they are deleted (each logged, the count in
    the type's entry) with the type's field definitions and the roles' grants. Returns the count."""
    require_admin(actor, "object types")
    fresh = configwrites.locked(ObjectType, object_type.pk)
    _refuse_if_looked_up(fresh)
    count = CustomRecord.objects.filter(type=fresh).count()
    if count and not confirm:
        raise ConfirmRequired(
            f"{count} {fresh.plural} exist; delete the type with confirmation to delete them too.",
            fields={"confirm": f"{count} records of this type exist."},
        )
    _delete_records(fresh, actor)
    for field in CustomField.objects.filter(object_type=fresh.key):
        configwrites.delete(field, actor=actor)
    for role in Role.objects.filter(Q(permissions__has_key=fresh.key) | Q(field_access__has_key=fresh.key)):
        permissions = {k: v for k, v in role.permissions.items() if k != fresh.key}
        field_access = {k: v for k, v in role.field_access.items() if k != fresh.key}
        role_update(role, actor=actor, data={"permissions": permissions, "field_access": field_access})
    changes = changelog.diff(changelog.snapshot(fresh), {}) | ({"records_deleted": [count, None]} if count else {})
    changelog.log_event(actor, fresh, "delete", changes)
    fresh.delete()
    return count


def _refuse_if_looked_up(object_type: ObjectType) -> None:
    """A lookup of another type would point at records that no longer exist."""
    users = CustomField.objects.filter(field_type=FieldType.LOOKUP, target=object_type.key)
    users = [f"{f.object_type}.{f.key}" for f in users.exclude(object_type=object_type.key)]
    if users:
        raise ValidationFailed({"key": f"Lookup fields point at {object_type.plural}: {', '.join(users)}."})


def _delete_records(object_type: ObjectType, actor) -> None:
    """Logged, out of the search index and unlinked from activities and tasks. No record.deleted
    events: the type goes with them, and rules and webhooks on it have nothing left to read."""
    qs = CustomRecord.objects.filter(type=object_type).select_related("type").order_by("pk")
    while chunk := list(qs.select_for_update()[:CHUNK]):
        ids = [r.pk for r in chunk]
        changelog.log_bulk_delete(actor, chunk, [changelog.snapshot(r) for r in chunk])
        search_index.remove_many(chunk)
        links.unlink(object_type.key, ids)
        CustomRecord.objects.filter(pk__in=ids).delete()
