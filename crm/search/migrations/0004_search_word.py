"""The distinct words of the search index, with a trigram index (PostgreSQL only): the typo path corrects
a typed word to its near known words first, then runs the full-text search (crm/search/words.py). A
B-tree index on the word serves the "already known?" check of each write. No unique constraint, on
purpose (see crm/search/words.py). Filled from the existing index rows. SQLite: nothing (its index has
no typo tolerance)."""

from django.db import migrations

CREATE = [
    "CREATE TABLE search_word (word text NOT NULL)",
    "CREATE INDEX search_word_word ON search_word (word)",
    "CREATE INDEX search_word_trgm ON search_word USING gin (word gin_trgm_ops)",
]
BATCH = 5000


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for sql in CREATE:
            cur.execute(sql)
        cur.execute("SELECT DISTINCT w FROM search_document, regexp_split_to_table(body, ' ') w WHERE length(w) > 3")
        while rows := cur.fetchmany(BATCH):
            # As crm/search/words.py `known` keeps them then: letters only, more than three.
            words = [r[0] for r in rows if r[0].isalpha()]
            with connection.cursor() as write:
                write.execute("INSERT INTO search_word(word) SELECT unnest(%s::text[])", [words])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS search_word")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_search_kinds")]
    operations = [migrations.RunPython(forwards, backwards)]
