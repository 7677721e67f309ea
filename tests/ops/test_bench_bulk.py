"""The throwaway bulk load: secondary indexes are dropped for the load and come back identical."""

import pytest
from django.db import connection

from crm.bench.bulk import SQLITE_PRAGMAS, BulkWriter

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TABLES = ["records_activity", "records_contactemail", "search_name"]


def _indexes() -> list[tuple]:
    """(name, definition): SQLite gives no definition for the implicit UNIQUE ones, PostgreSQL all."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN (%s, %s, %s)"
            if connection.vendor == "sqlite"
            else "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (%s, %s, %s)",
            TABLES,
        )
        return sorted(cur.fetchall())


def _kept(indexes: list[tuple]) -> list[str]:
    """The indexes a load keeps: SQLite's implicit ones; on PostgreSQL, primary keys and unique ones."""
    if connection.vendor == "sqlite":
        return [name for name, sql in indexes if not sql]
    return [name for name, sql in indexes if " UNIQUE " in sql]


def _settings() -> dict:
    if connection.vendor != "sqlite":
        return {}
    with connection.cursor() as cur:
        return {p: cur.execute(f"PRAGMA {p}").fetchone()[0] for p in SQLITE_PRAGMAS}


def test_throwaway_load_restores_every_index_and_setting():
    before, settings = _indexes(), _settings()
    kept = _kept(before)
    assert len(before) > len(kept) and "search_name_key" not in kept  # secondary indexes to drop
    writer = BulkWriter(tables=TABLES, throwaway=True)
    writer.begin()
    assert [name for name, _ in _indexes()] == kept
    writer.insert("records_contactemail", ("id", "email", "kind", "is_primary", "contact_id"), [[]])
    writer.finish()
    assert _indexes() == before
    # The connection is as it was: left at journal_mode=OFF, the next test's rollback kept its rows.
    assert _settings() == settings
