"""An activity's time copied onto its links, indexed with the linked record: a timeline reads its
newest entries from the index instead of sorting every activity of the record."""

from django.db import migrations, models

FILL = (
    "UPDATE records_activitylink SET occurred_at = "
    "(SELECT a.occurred_at FROM records_activity a WHERE a.id = records_activitylink.activity_id)"
)


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before the ALTERs below
        cur.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0004_generic_links"),
    ]

    operations = [
        migrations.AddField(model_name="activitylink", name="occurred_at", field=models.DateTimeField(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="activitylink", name="occurred_at", field=models.DateTimeField()),
        migrations.AddIndex(
            model_name="activitylink",
            index=models.Index(fields=["record_type", "record_id", "occurred_at", "activity"], name="activitylink_timeline"),
        ),
    ]
