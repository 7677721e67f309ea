"""Keeps global search in step with a custom object type's definition: a type is indexed by its name and
its searchable fields (registry.record_type, search_text), so turning a field's ``searchable`` on or off,
adding or deleting a searchable field, or changing the type's name field rebuilds the type's search
rows (crm.search.reindex: at once for a small type, else a job), whatever wrote the definition (the
services, the admin, a fixture): signals, as for the registry's generation token.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save

from crm.customization.models import CustomField
from crm.objects.models import ObjectType
from crm.search import reindex


def _stored(model, instance):
    return model.objects.filter(pk=instance.pk).first() if instance.pk else None


def _remember_field(sender, instance: CustomField, **_kwargs) -> None:
    stored = _stored(CustomField, instance)
    instance._search_before = (stored.searchable, stored.object_type) if stored else (False, instance.object_type)


def _field_saved(sender, instance: CustomField, **_kwargs) -> None:
    was_searchable, old_type = getattr(instance, "_search_before", (False, instance.object_type))
    if was_searchable or instance.searchable or _is_name_field(instance):
        for object_type in {old_type, instance.object_type}:
            _schedule(object_type)


def _field_deleted(sender, instance: CustomField, **_kwargs) -> None:
    if instance.searchable:
        _schedule(instance.object_type)


def _remember_type(sender, instance: ObjectType, **_kwargs) -> None:
    stored = _stored(ObjectType, instance)
    instance._name_field_before = stored.name_field if stored else None


def _type_saved(sender, instance: ObjectType, created: bool, **_kwargs) -> None:
    before = getattr(instance, "_name_field_before", None)
    if not created and before is not None and before != instance.name_field:
        _schedule(instance.key)


def _is_name_field(field: CustomField) -> bool:
    return ObjectType.objects.filter(key=field.object_type, name_field=field.key).exists()


def _schedule(object_type: str) -> None:
    if ObjectType.objects.filter(key=object_type).exists():  # a custom type (built-in types index their own way)
        reindex.schedule(object_type)


def connect() -> None:
    pre_save.connect(_remember_field, sender=CustomField, dispatch_uid="objects-search-field-before")
    post_save.connect(_field_saved, sender=CustomField, dispatch_uid="objects-search-field-saved")
    post_delete.connect(_field_deleted, sender=CustomField, dispatch_uid="objects-search-field-deleted")
    pre_save.connect(_remember_type, sender=ObjectType, dispatch_uid="objects-search-type-before")
    post_save.connect(_type_saved, sender=ObjectType, dispatch_uid="objects-search-type-saved")
