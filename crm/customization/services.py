"""Custom field definitions: created, changed and deleted by admins only, checked and written to the
change log. Values stay in the records' ``custom_fields``: a field's type cannot change while records
hold values (the refusal previews the values that would not convert), and a field holding data is
deleted only when the caller confirms, removing the values from the records too."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from crm.access.policy import require_admin
from crm.audit import changelog, configwrites
from crm.core import recordtypes
from crm.core.errors import Conflict, ValidationFailed
from crm.customization import secrets, values
from crm.customization.models import CustomField, FieldType
from crm.customization.validation import coerce

FIELDS = ("object_type", "key", "label", "field_type", "required", "default", "choices", "help_text", "order")
FIELDS += ("target", "unique", "searchable", "encrypted")
CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
# What a lookup may point at: these declared types, users, or a custom object type.
LOOKUP_TARGETS = ("company", "contact", "deal", "lead", "user")
# Types whose values compare as one plain JSON value (a list or an object would compare as text).
UNIQUE_TYPES = {FieldType.TEXT, FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE, FieldType.DATETIME}
UNIQUE_TYPES |= {FieldType.URL, FieldType.EMAIL, FieldType.PHONE, FieldType.LOOKUP, FieldType.USER}


class ValuesHeld(ValidationFailed):
    """A change the values stored in records would not survive; ``preview`` says what they are."""

    def __init__(self, fields: dict[str, str], preview: dict):
        super().__init__(fields, "Records hold values of this field.")
        self.preview = preview

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["error"]["preview"] = self.preview
        return body


class ConfirmRequired(Conflict):
    code = "confirm_required"


# Apps that give definitions a meaning of their own (a custom object type's name field) refuse changes
# here: guard(stored or None, changed or None) -> {field: message}; None/None never happens.
_GUARDS: list[Callable[[CustomField | None, CustomField | None], dict[str, str]]] = []


def add_guard(guard) -> None:
    if guard not in _GUARDS:
        _GUARDS.append(guard)


def _guarded(stored: CustomField | None, changed: CustomField | None) -> None:
    errors: dict[str, str] = {}
    for guard in _GUARDS:
        errors.update(guard(stored, changed) or {})
    if errors:
        raise ValidationFailed(errors)


def check(field: CustomField) -> None:
    """The rules of a definition beyond the model's, for a new one and for a change (the admin form
    runs this too). A change is compared with the row as stored."""
    _check_type_and_target(field)
    _check_encrypted(field)
    _check_choices_and_default(field)
    stored = CustomField.objects.filter(pk=field.pk).first() if field.pk else None
    if stored is not None:
        _check_change(stored, field)
    _guarded(stored, field)


def _check_type_and_target(field: CustomField) -> None:
    known = recordtypes.known_types()
    if field.object_type not in known:
        raise ValidationFailed({"object_type": f"Unknown record type {field.object_type!r}; use {', '.join(known)}."})
    declared = recordtypes.declared(field.object_type)
    if field.field_type != FieldType.LOOKUP:
        field.target = ""
    else:
        targets = (*LOOKUP_TARGETS, *(k for k in known if not recordtypes.declared(k)))
        if field.target not in targets:
            raise ValidationFailed({"target": f"A lookup needs a target: one of {', '.join(targets)}."})
    if declared and field.field_type == FieldType.LOOKUP:
        # The built-in services validate values without the acting user, so they could not check
        # that the looked-up record is one the user sees.
        raise ValidationFailed({"field_type": "Lookup fields are available on custom object types only."})
    if field.unique and declared:
        raise ValidationFailed({"unique": "Unique fields are available on custom object types only."})
    if field.unique and field.field_type not in UNIQUE_TYPES:
        allowed = ", ".join(sorted(UNIQUE_TYPES))
        raise ValidationFailed({"unique": f"A {field.field_type} field cannot be unique; these can: {allowed}."})


def _check_encrypted(field: CustomField) -> None:
    """Encrypted values are text the database cannot read: it can neither search, sort nor compare
    them (equality goes through the keyed hash, unique checks would not)."""
    if not field.encrypted:
        return
    if field.field_type not in secrets.ENCRYPTABLE_TYPES:
        allowed = ", ".join(secrets.ENCRYPTABLE_TYPES)
        raise ValidationFailed({"encrypted": f"A {field.field_type} field cannot be encrypted; these can: {allowed}."})
    if field.searchable:
        raise ValidationFailed({"searchable": "An encrypted field cannot be searchable (the index would hold it)."})
    if field.unique:
        raise ValidationFailed({"unique": "An encrypted field cannot be unique."})


def _check_choices_and_default(field: CustomField) -> None:
    """Choices are a list (validation tests ``value in choices``: a string would accept any part of
    it); a choice field has some; the default is a valid value, stored as values are."""
    choices = field.choices
    if choices is None:
        choices = field.choices = []
    if not isinstance(choices, list) or any(not isinstance(c, str | int | float) for c in choices):
        raise ValidationFailed({"choices": 'Must be a list of values: ["gold", "silver"].'})
    if field.field_type in CHOICE_TYPES and not choices:
        raise ValidationFailed({"choices": "A choice field needs at least one choice."})
    if field.field_type == FieldType.LOOKUP and field.default not in (None, ""):
        raise ValidationFailed({"default": "A lookup field has no default."})
    if field.field_type in FieldType.values:  # an unknown type is the model's own error
        try:
            field.default = coerce(field, field.default)
        except (ValueError, TypeError) as exc:
            raise ValidationFailed({"default": str(exc) or "Not a valid value for this field."}) from None


def _check_change(stored: CustomField, field: CustomField) -> None:
    """Values are kept under (type, key) and in the form of their type: none of the three may change
    while records hold values."""
    moved = {name for name in ("object_type", "key") if getattr(stored, name) != getattr(field, name)}
    retyped = stored.field_type != field.field_type or (
        field.field_type == FieldType.LOOKUP and stored.target != field.target
    )
    if not (moved or retyped):
        return
    found = values.preview(stored, field)
    count = found["records_with_values"]
    if not count:
        return
    if moved:
        name = sorted(moved)[0]
        raise ValuesHeld({name: f"{count} records hold values of this field; its {name} cannot change."}, found)
    message = f"{count} records hold values of this field, so its type cannot change."
    if found["not_convertible"]:
        shown = ", ".join(repr(v) for v in found["not_convertible"])
        message += f" Values that would not convert to {field.field_type}: {shown}."
    raise ValuesHeld({"field_type": message}, found)


@transaction.atomic
def custom_field_create(*, actor, data: dict) -> CustomField:
    require_admin(actor, "custom fields")
    field = CustomField(**{k: data[k] for k in FIELDS if k in data})
    return configwrites.create(field, actor=actor, check=check)


@transaction.atomic
def custom_field_update(field: CustomField, *, actor, data: dict) -> CustomField:
    require_admin(actor, "custom fields")
    was_encrypted = CustomField.objects.filter(pk=field.pk).values_list("encrypted", flat=True).first()
    saved = configwrites.update(field, actor=actor, data=data, fields=FIELDS, check=check)
    if was_encrypted is not None and was_encrypted != saved.encrypted:
        values.recrypt(saved)  # in this transaction: no value is ever readable under the wrong flag
    return saved


@transaction.atomic
def custom_field_delete(field: CustomField, *, actor, confirm: bool = False) -> int:
    """Refused while records hold values unless ``confirm``: then the values are removed from them
    (each record's change logged) and the count is in the field's delete entry. Returns that count."""
    require_admin(actor, "custom fields")
    fresh = configwrites.locked(CustomField, field.pk)
    _guarded(fresh, None)
    count = sum(1 for _ in values.stored(fresh))
    if count and not confirm:
        raise ConfirmRequired(
            f"{count} records hold values of {fresh.label}; delete it with confirmation to remove them too.",
            fields={"confirm": f"{count} records hold values of this field."},
        )
    before = changelog.snapshot(fresh)
    removed = values.remove(fresh, actor=actor)
    changes = changelog.diff(before, {}) | ({"values_removed_from": [count, None]} if count else {})
    changelog.log_event(actor, fresh, "delete", changes)
    fresh.delete()
    return removed
