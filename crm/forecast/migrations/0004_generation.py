from django.db import migrations, models


def install(apps, schema_editor):
    """The write counter's triggers (crm/forecast/generation.py)."""
    from crm.forecast import generation

    generation.install(schema_editor)


def uninstall(apps, schema_editor):
    from crm.forecast import generation

    generation.uninstall(schema_editor)


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
    ]
