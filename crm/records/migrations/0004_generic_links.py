"""Activities and tasks link to records through one generic link table each (record_type,
record_id) instead of a foreign key per type. The existing links are copied over in SQL (one
statement per type, fast at a million rows) before the old columns go; going back copies the
first link of each type into the restored columns."""

import django.db.models.deletion
from django.db import migrations, models

TYPES = ("company", "contact", "lead", "deal")
OWNERS = (("activity", "activity"), ("task", "task"))


def _forward() -> list[str]:
    return [
        f"INSERT INTO records_{owner}link ({fk}_id, record_type, record_id) "
        f"SELECT id, '{t}', {t}_id FROM records_{owner} WHERE {t}_id IS NOT NULL"
        for owner, fk in OWNERS
        for t in TYPES
    ]


def _backward() -> list[str]:
    return [
        f"UPDATE records_{owner} SET {t}_id = (SELECT MIN(l.record_id) FROM records_{owner}link l "
        f"WHERE l.{fk}_id = records_{owner}.id AND l.record_type = '{t}')"
        for owner, fk in OWNERS
        for t in TYPES
    ]


def _run(statements):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cur:
            if schema_editor.connection.vendor == "postgresql":
                # Check the foreign keys now, not at commit: PostgreSQL refuses the schema changes
                # that follow in this migration while deferred checks are pending.
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in statements:
                cur.execute(sql)

    return run


def _link_model(name: str, owner: str) -> migrations.CreateModel:
    return migrations.CreateModel(
        name=name,
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("record_type", models.CharField(max_length=30)),
            ("record_id", models.PositiveBigIntegerField()),
            (
                owner,
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="links", to=f"records.{owner}"
                ),
            ),
        ],
        options={
            "constraints": [
                models.UniqueConstraint(fields=("record_type", "record_id", owner), name=f"{owner.lower()}link_unique")
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_deal_forecast_index"),
    ]

    operations = [
        _link_model("ActivityLink", "activity"),
        _link_model("TaskLink", "task"),
        migrations.RunPython(_run(_forward()), _run(_backward())),
        *[
            migrations.RemoveIndex(model_name="activity", name=f"activity_{t}_time")
            for t in ("contact", "company", "deal", "lead")
        ],
        *[migrations.RemoveIndex(model_name="task", name=f"task_{t}") for t in ("contact", "company", "deal", "lead")],
        *[migrations.RemoveField(model_name=owner, name=t) for owner in ("activity", "task") for t in TYPES],
    ]
