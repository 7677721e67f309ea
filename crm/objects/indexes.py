"""An expression index per sortable value key of the custom object types, so ``sort=-seats`` reads a
page from an index instead of sorting every record of the type (docs/benchmarks.md, custom objects).

Fields are rows written at run time, so no migration can declare these indexes: the objects app creates
one when a sortable field of a custom type is saved and drops it when no such field keeps its key,
from the signals of the definitions (any writer: the services, the admin, a fixture), inside the
writer's transaction. The index is ``(type_id, <value>, id)`` with the value written exactly as the
paging code orders by it (crm.core.paging.json_value_sql), or the planner would not match them.

One index per key, named ``cr_v_<key>`` (keys are at most 50 characters, PostgreSQL names 63): two
types with a field ``seats`` share it, since ``type_id`` comes first.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save

from crm.core.paging import json_value_sql
from crm.customization.models import CustomField
from crm.objects.models import CustomRecord, ObjectType
from crm.objects.registry import UNSORTABLE

TABLE = CustomRecord._meta.db_table
PREFIX = "cr_v_"


def index_name(key: str) -> str:
    return f"{PREFIX}{key}"


def create_sql(key: str, vendor: str) -> str:
    value = json_value_sql("custom_fields", key, vendor).replace("%%", "%")  # run without parameters
    return f"CREATE INDEX IF NOT EXISTS {index_name(key)} ON {TABLE} (type_id, {value}, id)"


def drop_sql(key: str) -> str:
    return f"DROP INDEX IF EXISTS {index_name(key)}"


def exists(cursor, key: str) -> bool:
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s", [TABLE, index_name(key)])
    else:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [index_name(key)])
    return cursor.fetchone() is not None


def wanted(key: str) -> bool:
    """Whether a field of a custom type (not of a built-in record type) sorts by this key. Not ``name``:
    a list sorts by the record's own column, copied from the name field (index ``(type, name)``)."""
    if key == "name":
        return False
    fields = CustomField.objects.filter(key=key, object_type__in=ObjectType.objects.values("key"))
    return fields.exclude(field_type__in=UNSORTABLE).exists()


def sync(keys) -> None:
    """Create or drop each key's index so it exists exactly while it is wanted; a no-op otherwise
    (the catalogue is read first: CREATE INDEX would lock the table even when it exists)."""
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            want, have = wanted(key), exists(cursor, key)
            if want != have:
                _settle_deferred_checks()
                cursor.execute(create_sql(key, connection.vendor) if want else drop_sql(key))


def _settle_deferred_checks() -> None:
    """PostgreSQL refuses to index a table with deferred foreign-key checks still pending from this
    transaction's writes ("pending trigger events"). Django's check_constraints runs them now (SET
    CONSTRAINTS ALL IMMEDIATE) and defers the later ones again, as Django's foreign keys are."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        connection.check_constraints()


def _remember_key(sender, instance: CustomField, **_kwargs) -> None:
    # A field's key or type may change (while no record holds a value): the old key's index may go.
    before = CustomField.objects.filter(pk=instance.pk).values_list("key", flat=True).first() if instance.pk else None
    instance._index_key_before = before


def _field_saved(sender, instance: CustomField, **_kwargs) -> None:
    sync({instance.key, getattr(instance, "_index_key_before", None) or instance.key})


def _field_deleted(sender, instance: CustomField, **_kwargs) -> None:
    sync({instance.key})


def _type_changed(sender, instance: ObjectType, **_kwargs) -> None:
    # Fields name their type by key, without a foreign key: a type deleted (or created) by any path.
    sync(CustomField.objects.filter(object_type=instance.key).values_list("key", flat=True))


def connect() -> None:
    pre_save.connect(_remember_key, sender=CustomField, dispatch_uid="objects-sort-index-before")
    post_save.connect(_field_saved, sender=CustomField, dispatch_uid="objects-sort-index-field-saved")
    post_delete.connect(_field_deleted, sender=CustomField, dispatch_uid="objects-sort-index-field-deleted")
    post_save.connect(_type_changed, sender=ObjectType, dispatch_uid="objects-sort-index-type-saved")
    post_delete.connect(_type_changed, sender=ObjectType, dispatch_uid="objects-sort-index-type-deleted")
