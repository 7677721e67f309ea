"""The distinct words of the search index (PostgreSQL), with a trigram index: a typed word that matches
nothing is corrected to the known words near it, and the ordinary full-text search then runs with them.

Why: tolerating a typo by trigram similarity on the index rows themselves (``'brackte' <% body``) rechecks
``word_similarity`` on every row that shares trigrams with the word, and a misspelling of a common word
shares them with a tenth of the index (0.8–1 s at 100,000 products, docs/benchmarks.md). The table of
distinct words is thousands of rows, not one per record: pg_trgm's documented way ("a separate table with
all distinct words"). The correction is a read of this table; the matching rows still come from the
index through the reader's restricted queryset, so a word is only ever used to rewrite the query, never
shown, and a word of a record the reader cannot see finds nothing for them.

The table is a superset: words are added as the index is written (``add``, from the backend's upsert),
not removed when a record is deleted (no count per word is kept, which would make every save update
shared rows). ``crm search-words --rebuild`` recomputes it from the index. An erasure is the exception
(personal data must not linger, even as a query's rewrite): inside ``pruning()`` the backend collects the
texts it deletes or overwrites, and the words of those no longer in the index are deleted at the end.

It has no unique constraint on purpose: two transactions adding the same new word would otherwise wait
on each other (or deadlock, each holding a word the other adds), and every save writes here. A word
added twice by concurrent saves is harmless (the correction reads DISTINCT words) and a rebuild drops it.

SQLite has no table: its FTS5 index has no typo tolerance, and keeps none (crm/search/backends.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

# The nearest known words a typed word is rewritten to, at most. A misspelling rarely has more than a
# few neighbours over pg_trgm's word-similarity threshold (0.6 by default, the one `<%` used before).
MAX_CORRECTIONS = 20
BATCH = 5000
# Texts removed from the index inside ``pruning()`` (None outside it).
_removed: ContextVar[list[str] | None] = ContextVar("search_words_removed", default=None)


def typo_tolerant(word: str) -> bool:
    """A word long enough to hold a typo, and not a number (a digit off is another phone number)."""
    return len(word) > 3 and not word.isdigit()


def known(word: str) -> bool:
    """A word the table keeps: one a typo can be corrected to (letters only: a digit off is another number)."""
    return typo_tolerant(word) and word.isalpha()


def words_in(bodies: Iterable[str]) -> list[str]:
    """The distinct words of folded index texts that the table keeps, sorted."""
    return sorted({w for body in bodies for w in body.split() if known(w)})


def add(bodies: Iterable[str]) -> None:
    """Add the words of these index texts not yet known (one statement; PostgreSQL only)."""
    words = words_in(bodies)
    if not words:
        return
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO search_word(word) SELECT w FROM unnest(%s::text[]) w "
            "WHERE NOT EXISTS (SELECT 1 FROM search_word s WHERE s.word = w)",
            [words],
        )


def corrections(word: str) -> list[str]:
    """The known words nearest ``word`` by trigram word similarity (pg_trgm's ``<%``), best first."""
    if not typo_tolerant(word):
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT word FROM search_word WHERE %s <%% word GROUP BY word "
            "ORDER BY word_similarity(%s, word) DESC, word LIMIT %s",
            [word, word, MAX_CORRECTIONS],
        )
        return [row[0] for row in cur.fetchall()]


def clear() -> None:
    with connection.cursor() as cur:
        cur.execute("TRUNCATE search_word")


def rebuild(progress=None) -> int:
    """The table again from the index's texts (drops the words of deleted and erased records); returns
    the number of words. In one transaction: searches meanwhile see the old table."""
    if connection.vendor != "postgresql":
        return 0
    total = 0
    with transaction.atomic():
        clear()
        with connection.chunked_cursor() as read, connection.cursor() as write:
            read.execute(
                "SELECT DISTINCT w FROM search_document, regexp_split_to_table(body, ' ') w WHERE length(w) > 3"
            )
            while rows := read.fetchmany(BATCH):
                words = [r[0] for r in rows if known(r[0])]
                write.execute("INSERT INTO search_word(word) SELECT unnest(%s::text[])", [words])
                total += len(words)
                if progress:
                    progress(total)
    return total


def collecting() -> bool:
    return _removed.get() is not None


def removed(bodies: Iterable[str]) -> None:
    """Texts the index lost inside ``pruning()`` (called by the backend)."""
    _removed.get().extend(bodies)


@contextmanager
def pruning():
    """Within: every text the index loses (deleted or overwritten) is noted; at the end, its words that
    no longer occur anywhere in the index leave the table (the erasure of a person, crm/privacy)."""
    token = _removed.set([])
    try:
        yield
        prune(_removed.get())
    finally:
        _removed.reset(token)


def prune(bodies: Iterable[str]) -> int:
    """Delete the words of these texts that no document of the index holds any more (PostgreSQL only;
    one statement, each word an index lookup on the full-text GIN index)."""
    words = words_in(bodies)
    if not words or connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM search_word s WHERE s.word = ANY(%s) AND NOT EXISTS (SELECT 1 FROM search_document d "
            "WHERE to_tsvector('simple', d.body) @@ to_tsquery('simple', s.word))",
            [words],
        )
        return cur.rowcount
