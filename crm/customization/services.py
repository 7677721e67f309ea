"""Custom field definitions: created, changed and deleted by admins only, checked and written to the
change log. Values stay in the records' ``custom_fields``; deleting a definition leaves them there
unread (validation drops unknown keys on the record's next write)."""

from __future__ import annotations

from django.db import transaction

from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField, FieldType
from crm.customization.validation import coerce

FIELDS = ("object_type", "key", "label", "field_type", "required", "default", "choices", "help_text", "order")
CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)


def check(field: CustomField) -> None:
    """Choices are a list (validation tests ``value in choices``: a string would accept any part of
    it); a choice field has some; the default is a valid value, stored as values are."""
    choices = field.choices
    if choices is None:
        choices = field.choices = []
    if not isinstance(choices, list) or any(not isinstance(c, str | int | float) for c in choices):
        raise ValidationFailed({"choices": 'Must be a list of values: ["gold", "silver"].'})
    if field.field_type in CHOICE_TYPES and not choices:
        raise ValidationFailed({"choices": "A choice field needs at least one choice."})
    if field.field_type in FieldType.values:  # an unknown type is the model's own error
        try:
            field.default = coerce(field, field.default)
        except (ValueError, TypeError) as exc:
            raise ValidationFailed({"default": str(exc) or "Not a valid value for this field."}) from None


@transaction.atomic
def custom_field_create(*, actor, data: dict) -> CustomField:
    require_admin(actor, "custom fields")
    field = CustomField(**{k: data[k] for k in FIELDS if k in data})
    return configwrites.create(field, actor=actor, check=check)


@transaction.atomic
def custom_field_update(field: CustomField, *, actor, data: dict) -> CustomField:
    require_admin(actor, "custom fields")
    return configwrites.update(field, actor=actor, data=data, fields=FIELDS, check=check)


@transaction.atomic
def custom_field_delete(field: CustomField, *, actor) -> None:
    require_admin(actor, "custom fields")
    configwrites.delete(field, actor=actor)
