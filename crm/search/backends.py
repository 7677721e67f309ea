"""The two index implementations behind one interface: SQLite FTS5 and PostgreSQL full text + trigram.

Both store one row per record: (row id, object type, object id, folded text). ``match_sql``
returns a subquery of matching object ids, which the caller filters through the restricted
queryset, so search results obey the same visibility as every list.
"""

from __future__ import annotations

from django.db import connection


class SqliteBackend:
    def upsert(self, rows: list[tuple[int, str, int, str]]) -> None:
        with connection.cursor() as cur:
            cur.executemany("DELETE FROM search_fts WHERE rowid = %s", [(r[0],) for r in rows])
            cur.executemany("INSERT INTO search_fts(rowid, kind, object_id, body) VALUES (%s, %s, %s, %s)", rows)

    def delete(self, row_ids: list[int]) -> None:
        with connection.cursor() as cur:
            cur.executemany("DELETE FROM search_fts WHERE rowid = %s", [(r,) for r in row_ids])

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_fts")

    def match_sql(self, object_type: str, words: list[str]) -> tuple[str, list]:
        terms = " AND ".join(f'"{w}"*' for w in words)
        return (
            "SELECT object_id FROM search_fts WHERE search_fts MATCH %s",
            [f"kind:{object_type} AND body:({terms})"],
        )


class PostgresBackend:
    def upsert(self, rows: list[tuple[int, str, int, str]]) -> None:
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO search_document(id, kind, object_id, body) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                rows,
            )

    def delete(self, row_ids: list[int]) -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_document WHERE id = ANY(%s)", [row_ids])

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("TRUNCATE search_document")

    def match_sql(self, object_type: str, words: list[str]) -> tuple[str, list]:
        # Every word must match: as a prefix (full text), or, for a word long enough to hold a typo,
        # by trigram word similarity. Per word, so one close word cannot stand in for the others.
        conditions, params = [], [object_type]
        for word in words:
            if len(word) > 3:
                conditions.append("(to_tsvector('simple', body) @@ to_tsquery('simple', %s) OR %s <%% body)")
                params += [f"{word}:*", word]
            else:
                conditions.append("to_tsvector('simple', body) @@ to_tsquery('simple', %s)")
                params.append(f"{word}:*")
        return "SELECT object_id FROM search_document WHERE kind = %s AND " + " AND ".join(conditions), params


def backend():
    return SqliteBackend() if connection.vendor == "sqlite" else PostgresBackend()
