"""The throwaway bulk load on SQLite: secondary indexes are dropped for the load and come back identical."""

import pytest
from django.db import connection

from crm.bench.bulk import BulkWriter

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TABLES = ["records_activity", "records_contactemail"]


def _indexes() -> list[tuple]:
    with connection.cursor() as cur:
        marks = ", ".join("%s" for _ in TABLES)
        cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks})", TABLES)
        return sorted(cur.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="index juggling is SQLite only")
def test_throwaway_load_restores_every_index():
    before = _indexes()
    assert any(sql for _, sql in before)  # the migrations define secondary indexes on both
    writer = BulkWriter(tables=TABLES, throwaway=True)
    writer.begin()
    assert [name for name, sql in _indexes() if sql] == []  # only the implicit UNIQUE ones stay
    writer.insert("records_contactemail", ("id", "email", "kind", "is_primary", "contact_id"), [[]])
    writer.finish()
    assert _indexes() == before
