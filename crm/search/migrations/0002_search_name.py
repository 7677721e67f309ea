"""The folded record names beside the text index, with a B-tree index on (kind, name_key).

Search ranks "name equals the query" and "name starts with it" first; with this index those rows come
in order from a range scan that stops at the page size, instead of sorting every text match (at a
million contacts a 4-letter prefix matches thousands). Existing records get their row from the same
fold() the index uses. On PostgreSQL the key uses the "C" collation: byte order, as on SQLite, so both
range-scan and sort the same way.
"""

from django.db import migrations

SQLITE = [
    "CREATE TABLE search_name (id integer PRIMARY KEY, kind varchar(30) NOT NULL, object_id bigint NOT NULL, "
    "name_key text NOT NULL)",
    "CREATE INDEX search_name_key ON search_name (kind, name_key, object_id)",
]
POSTGRES = [
    "CREATE TABLE search_name (id bigint PRIMARY KEY, kind varchar(30) NOT NULL, object_id bigint NOT NULL, "
    'name_key text COLLATE "C" NOT NULL)',
    "CREATE INDEX search_name_key ON search_name (kind, name_key, object_id)",
]
DROP = ["DROP TABLE IF EXISTS search_name"]

# As the record types declared them then (code is part of the row id: object_id * 16 + code).
EXISTING = [("company", 1, "records", "Company"), ("contact", 2, "records", "Contact"),
            ("lead", 3, "records", "Lead"), ("deal", 4, "records", "Deal")]  # fmt: skip


def forwards(apps, schema_editor):
    from crm.search.registry import fold

    with schema_editor.connection.cursor() as cur:
        for sql in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, []):
            cur.execute(sql)
        for kind, code, app, model in EXISTING:
            names = apps.get_model(app, model).objects.values_list("pk", "name").iterator(chunk_size=2000)
            batch = []
            for pk, name in names:
                batch.append((pk * 16 + code, kind, pk, fold(name)))
                if len(batch) == 2000:
                    cur.executemany("INSERT INTO search_name (id, kind, object_id, name_key) VALUES (%s, %s, %s, %s)", batch)
                    batch = []
            if batch:
                cur.executemany("INSERT INTO search_name (id, kind, object_id, name_key) VALUES (%s, %s, %s, %s)", batch)


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        for sql in DROP:
            cur.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial"), ("records", "0003_deal_forecast_index")]
    operations = [migrations.RunPython(forwards, backwards)]
