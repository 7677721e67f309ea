"""The search index tables: FTS5 on SQLite; a text table with GIN full-text and trigram indexes
on PostgreSQL. Created per database vendor, so they are not Django models."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "kind, object_id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS search_fts"]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE search_document (id bigint PRIMARY KEY, kind varchar(30) NOT NULL, "
    "object_id bigint NOT NULL, body text NOT NULL)",
    "CREATE INDEX search_document_fts ON search_document USING gin (to_tsvector('simple', body))",
    "CREATE INDEX search_document_trgm ON search_document USING gin (body gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP TABLE IF EXISTS search_document"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
