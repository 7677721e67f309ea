from django.db import migrations, models


def install(apps, schema_editor):
    """The write counter's triggers (crm/forecast/generation.py)."""
    from crm.forecast import generation

    generation.install(schema_editor)


def uninstall(apps, schema_editor):
    from crm.forecast import generation

    generation.uninstall(schema_editor)


def count_stays(apps, schema_editor):
    """The usual-stay histogram from the stays already there (crm/forecast/staycounts.py)."""
    from crm.forecast import staycounts

    staycounts.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("forecast", "0003_stays"),
        ("records", "0006_company_size_labels"),
        ("money", "0002_seed_currencies"),
        ("predict", "0002_leadscore"),
    ]

    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("slot", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
        migrations.CreateModel(
            name="StayCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zone", models.CharField(max_length=64)),
                ("stage_id", models.BigIntegerField()),
                ("days", models.IntegerField()),
                ("count", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("zone", "stage_id", "days"), name="forecast_staycount_key")
                ],
            },
        ),
        migrations.RunPython(count_stays, migrations.RunPython.noop),
    ]
