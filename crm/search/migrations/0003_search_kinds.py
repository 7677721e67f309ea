"""Row ids from (type, id) without a cap on the number of types: object_id << 20 | the type's number in
search_kind, instead of object_id * 16 + a code below 16. The four indexed types keep their numbers;
existing rows are re-keyed (negated first on the B-tree tables, so no new id meets an old one)."""

from django.core.management.color import no_style
from django.db import migrations, models

KINDS = [(1, "company"), (2, "contact"), (3, "lead"), (4, "deal")]  # their codes before this migration
FORWARD = "(({id} >> 4) << 20) | ({id} & 15)"  # object_id * 16 + code -> object_id << 20 | code
BACKWARD = "(({id} >> 20) << 4) | ({id} & 1048575)"  # only for numbers below 16


def forwards(apps, schema_editor):
    SearchKind = apps.get_model("search", "SearchKind")
    SearchKind.objects.bulk_create([SearchKind(pk=pk, object_type=t) for pk, t in KINDS])
    connection = schema_editor.connection
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [SearchKind]):
            cur.execute(sql)  # PostgreSQL: the next new type gets 5
    _rekey(connection, FORWARD)


def backwards(apps, schema_editor):
    SearchKind = apps.get_model("search", "SearchKind")
    if SearchKind.objects.filter(pk__gt=15).exists():
        raise RuntimeError("The index holds types numbered 16 or more: the old row ids cannot hold them.")
    _rekey(schema_editor.connection, BACKWARD)


def _rekey(connection, formula: str) -> None:
    new = formula.format(id="id")
    with connection.cursor() as cur:
        cur.execute(f"UPDATE search_name SET id = -({new})")
        cur.execute("UPDATE search_name SET id = -id")
        if connection.vendor == "sqlite":
            # A full-text table is copied into a new one in row id order (one pass, no collision).
            cur.execute(
                "CREATE VIRTUAL TABLE search_fts_new USING fts5("
                "kind, object_id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')"
            )
            cur.execute(
                "INSERT INTO search_fts_new(rowid, kind, object_id, body) "
                f"SELECT {formula.format(id='rowid')}, kind, object_id, body FROM search_fts"
            )
            cur.execute("DROP TABLE search_fts")
            cur.execute("ALTER TABLE search_fts_new RENAME TO search_fts")
        else:
            cur.execute(f"UPDATE search_document SET id = -({new})")
            cur.execute("UPDATE search_document SET id = -id")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_search_name")]

    operations = [
        migrations.CreateModel(
            name="SearchKind",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("object_type", models.CharField(max_length=64, unique=True)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
