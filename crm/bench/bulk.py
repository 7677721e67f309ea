"""Bulk writes that bypass the ORM: executemany in large transactions on SQLite, COPY on PostgreSQL.

Rows are plain tuples of str/int/None in the table's column order; both databases parse the same
text forms (ISO timestamps in UTC, 0/1 booleans, JSON as text).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

SQLITE_PRAGMAS = ("journal_mode", "synchronous", "cache_size", "foreign_keys")


class BulkWriter:
    """``tables``: the tables about to be loaded. ``throwaway``: the database is a fresh benchmark file
    that a crash may leave corrupt (it is re-seeded then), which allows the cheapest SQLite settings."""

    def __init__(self, on_rows=None, *, tables: Iterable[str] = (), throwaway: bool = False):
        self.vendor = connection.vendor
        self.on_rows = on_rows  # progress callback(table, count)
        self.total = 0
        self.tables = list(tables)
        self.throwaway = throwaway
        self.dropped: list[str] = []  # CREATE INDEX statements to run again in finish()
        self.restore: dict[str, object] = {}  # SQLite settings as begin() found them, for finish()
        connection.ensure_connection()
        self.raw = connection.connection

    def begin(self) -> None:
        if self.vendor == "sqlite":
            self.restore = {p: self.raw.execute(f"PRAGMA {p}").fetchone()[0] for p in SQLITE_PRAGMAS}
            # The seed builds a fresh file: durability during the load buys nothing, and the
            # generator keeps every foreign key consistent (tests check with foreign_key_check).
            self.raw.execute("PRAGMA foreign_keys=OFF")
            self.raw.execute("PRAGMA synchronous=OFF")
            self.raw.execute("PRAGMA cache_size=-1000000")
            # A rollback journal in memory instead of the WAL: each page is written once, not twice;
            # none at all on a throwaway file (a crash mid-seed means re-seeding anyway).
            self.raw.execute("PRAGMA journal_mode=OFF" if self.throwaway else "PRAGMA journal_mode=MEMORY")
            if self.throwaway:
                self._drop_indexes()
        else:
            with self.raw.cursor() as cur:
                # Skip per-row foreign key triggers during COPY (superuser only); same reason.
                cur.execute("SET session_replication_role = replica")
            self.raw.commit()
            if self.throwaway:
                self._drop_pg_indexes()

    def insert(self, table: str, columns: tuple[str, ...], chunks: Iterable[list[tuple]]) -> int:
        written = 0
        cols = ", ".join(f'"{c}"' for c in columns)
        for rows in chunks:
            if not rows:
                continue
            if self.vendor == "sqlite":
                # Django's connection is in autocommit: without an explicit transaction every row
                # of executemany would be its own commit.
                marks = ", ".join("?" * len(columns))
                self.raw.execute("BEGIN")
                self.raw.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
                self.raw.execute("COMMIT")
            else:
                with self.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                self.raw.commit()
            written += len(rows)
            self.total += len(rows)
            if self.on_rows:
                self.on_rows(table, len(rows))
        return written

    def _drop_indexes(self) -> None:
        """Drop the tables' secondary indexes: building an index once from sorted data at the end is
        several times cheaper than updating it row by row (the activity table alone has 10)."""
        marks = ", ".join("?" * len(self.tables))
        found = self.raw.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            self.tables,
        ).fetchall()
        for name, sql in found:
            self.raw.execute(f'DROP INDEX "{name}"')
            self.dropped.append(sql)

    def _drop_pg_indexes(self) -> None:
        """As _drop_indexes, on PostgreSQL: the plain (non-unique, not a constraint's) indexes, above all
        the search table's GIN indexes, which COPY would otherwise update row by row."""
        with self.raw.cursor() as cur:
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) AND NOT i.indisunique "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                [self.tables],
            )
            for name, sql in cur.fetchall():
                cur.execute(f"DROP INDEX {name}")
                self.dropped.append(sql)
        self.raw.commit()

    def finish(self) -> None:
        if self.vendor == "sqlite":
            self.raw.execute("PRAGMA threads=2")  # CREATE INDEX sorts with a helper thread
            for sql in self.dropped:  # UNIQUE ones check the generated data again here
                self.raw.execute(sql)
            self.dropped.clear()
            # Statistics from a sample of each index (SQLite's advice for large databases): a full
            # ANALYZE reads every index of a multi-GB file again.
            self.raw.execute("PRAGMA analysis_limit=1000")
            self.raw.execute("ANALYZE")
            # Back to what the connection ran with (the app's WAL, or a test database's journal):
            # left at journal_mode=OFF, a later ROLLBACK on this connection would not undo anything.
            for pragma, value in self.restore.items():
                self.raw.execute(f"PRAGMA {pragma}={value}")
        else:
            with self.raw.cursor() as cur:
                cur.execute("SET session_replication_role = origin")
                cur.execute("SET maintenance_work_mem = '512MB'")  # index builds sort in memory
                for sql in self.dropped:
                    cur.execute(sql)
            self.dropped.clear()
            self.raw.commit()
            with self.raw.cursor() as cur:  # Django's connection is in autocommit: VACUUM may run
                cur.execute("VACUUM ANALYZE")

    def reset_sequences(self, tables: list[str]) -> None:
        """After explicit ids on PostgreSQL, move each table's id sequence past the largest id."""
        if self.vendor != "postgresql":
            return
        with self.raw.cursor() as cur:
            for table in tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
                )
        self.raw.commit()
