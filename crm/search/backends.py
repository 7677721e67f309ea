"""The two index implementations behind one interface: SQLite FTS5 and PostgreSQL full text + trigram.

Both store one row per record: (row id, object type, object id, folded text), and beside it the
folded name in ``search_name`` (B-tree on kind, name_key) for the exact/prefix name ranking. The row
id holds the record's type and id (crm/search/registry.py: object_id << KIND_BITS | the type's number).
``match_sql`` returns a subquery of matching object ids,
which the caller filters through the restricted queryset, so search results obey the same
visibility as every list.
"""

from __future__ import annotations

from django.db import connection

from crm.search import words as search_words
from crm.search.registry import KIND_BITS, KIND_MASK, code_of
from crm.search.words import typo_tolerant  # noqa: F401 (imported from here by query.py and selectors)

# (row id, object type, object id, folded text, folded name)
Row = tuple[int, str, int, str, str]
NAME_UPSERT = (
    "INSERT INTO search_name(id, kind, object_id, name_key) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (id) DO UPDATE SET name_key = EXCLUDED.name_key"
)


def _names(rows: list[Row]) -> list[tuple]:
    return [(r[0], r[1], r[2], r[4]) for r in rows]


class SqliteBackend:
    fuzzy = False  # FTS5 has no typo-tolerant match here

    def upsert(self, rows: list[Row]) -> None:
        with connection.cursor() as cur:
            cur.executemany("DELETE FROM search_fts WHERE rowid = %s", [(r[0],) for r in rows])
            cur.executemany(
                "INSERT INTO search_fts(rowid, kind, object_id, body) VALUES (%s, %s, %s, %s)", [r[:4] for r in rows]
            )
            cur.executemany(NAME_UPSERT, _names(rows))

    def delete(self, row_ids: list[int]) -> None:
        with connection.cursor() as cur:
            cur.executemany("DELETE FROM search_fts WHERE rowid = %s", [(r,) for r in row_ids])
            cur.executemany("DELETE FROM search_name WHERE id = %s", [(r,) for r in row_ids])

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_fts")
            cur.execute("DELETE FROM search_name")

    def match_sql(self, object_type: str, words: list[str], *, phrase: bool = False, fuzzy: bool = True):
        """``phrase``: the words in this order, the last one as a prefix (an email address or part of one):
        AND-ed prefixes of "example" and "com" would each read a doclist of most of the index first."""
        # The type comes from the row id, not from a `kind:` term: AND-ing with the doclist of every
        # contact cost ~50 ms per query at a million contacts.
        return (
            f"SELECT rowid >> {KIND_BITS} FROM search_fts WHERE search_fts MATCH %s AND (rowid & {KIND_MASK}) = %s",
            [self._query(words, phrase), code_of(object_type)],
        )

    @staticmethod
    def _query(words: list[str], phrase: bool) -> str:
        terms = f'"{" ".join(words)}"*' if phrase else "(" + " AND ".join(f'"{w}"*' for w in words) + ")"
        return f"body:{terms}"

    def match_rows_sql(self, object_type: str, words: list[str], *, phrase: bool = False):
        """As match_sql, but the index row ids: the keys of search_name."""
        sql, params = self.match_sql(object_type, words, phrase=phrase)
        return sql.replace(f"SELECT rowid >> {KIND_BITS} ", "SELECT rowid ", 1), params


class PostgresBackend:
    fuzzy = True

    def upsert(self, rows: list[Row]) -> None:
        with connection.cursor() as cur:
            if search_words.collecting():  # an erasure: the overwritten texts' words may have to go
                cur.execute("SELECT body FROM search_document WHERE id = ANY(%s)", [[r[0] for r in rows]])
                search_words.removed(row[0] for row in cur.fetchall())
            cur.executemany(
                "INSERT INTO search_document(id, kind, object_id, body) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                [r[:4] for r in rows],
            )
            cur.executemany(NAME_UPSERT, _names(rows))
        search_words.add(r[3] for r in rows)  # the typo path's known words (crm/search/words.py)

    def delete(self, row_ids: list[int]) -> None:
        # The words stay (a superset, never shown): `crm search-words --rebuild` drops the deleted ones;
        # an erasure drops its own at once (search_words.pruning).
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_document WHERE id = ANY(%s) RETURNING body", [row_ids])
            if search_words.collecting():
                search_words.removed(row[0] for row in cur.fetchall())
            cur.execute("DELETE FROM search_name WHERE id = ANY(%s)", [row_ids])

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("TRUNCATE search_document, search_name, search_word")

    def match_sql(self, object_type: str, words: list[str], *, phrase: bool = False, fuzzy: bool = True):
        """Every word must match as a prefix (full text); with ``fuzzy``, a word long enough to hold a typo
        may instead be one of the known words near it by trigram word similarity (crm/search/words.py:
        corrected first, in the table of distinct words; then one full-text search, not a trigram recheck
        of every similar row). Per word, so one close word cannot stand in for the others. ``phrase``:
        the words in order, the last as a prefix (see SqliteBackend)."""
        if phrase:
            query = " <-> ".join(words) + ":*"
            return (
                "SELECT object_id FROM search_document WHERE kind = %s "
                "AND to_tsvector('simple', body) @@ to_tsquery('simple', %s)",
                [object_type, query],
            )
        conditions, params = [], [object_type]
        for word in words:
            # Known words are letters only (words.known), so none holds a tsquery operator.
            near = search_words.corrections(word) if fuzzy and typo_tolerant(word) else []
            conditions.append("to_tsvector('simple', body) @@ to_tsquery('simple', %s)")
            params.append(" | ".join([f"{word}:*", *near]))
        return "SELECT object_id FROM search_document WHERE kind = %s AND " + " AND ".join(conditions), params

    def match_rows_sql(self, object_type: str, words: list[str], *, phrase: bool = False):
        """As match_sql without typo tolerance, but the index row ids: the keys of search_name."""
        sql, params = self.match_sql(object_type, words, phrase=phrase, fuzzy=False)
        return sql.replace("SELECT object_id ", "SELECT id ", 1), params


def backend():
    return SqliteBackend() if connection.vendor == "sqlite" else PostgresBackend()
