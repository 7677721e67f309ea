"""The expression index of each sortable value key of the custom types that exist already (new fields
get theirs from crm/objects/indexes.py when they are saved)."""

from django.db import migrations

UNSORTABLE = ["multi_choice", "money", "long_text"]  # crm.objects.registry.UNSORTABLE, as of this migration


def keys(apps) -> set[str]:
    types = apps.get_model("objects", "ObjectType").objects.values("key")
    fields = apps.get_model("customization", "CustomField").objects.filter(object_type__in=types)
    # Not "name": lists sort by the record's own column (crm.objects.indexes.wanted).
    return set(fields.exclude(field_type__in=UNSORTABLE).exclude(key="name").values_list("key", flat=True))


def create(apps, schema_editor):
    from crm.objects.indexes import create_sql

    with schema_editor.connection.cursor() as cursor:  # only the connection: a test runs this in its transaction
        for key in sorted(keys(apps)):
            cursor.execute(create_sql(key, schema_editor.connection.vendor))


def drop(apps, schema_editor):
    from crm.objects.indexes import drop_sql

    with schema_editor.connection.cursor() as cursor:
        for key in sorted(keys(apps)):
            cursor.execute(drop_sql(key))


class Migration(migrations.Migration):
    dependencies = [
        ("objects", "0002_type_generation"),
        ("customization", "0002_customfield_searchable_customfield_target_and_more"),
    ]

    operations = [migrations.RunPython(create, drop)]
