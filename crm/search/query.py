"""Global search: one call, every searchable type, ranked, filtered by what the user may see."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models.expressions import RawSQL

from crm.search.backends import backend
from crm.search.registry import fold, searchables

MAX_WORDS = 8


# Only digits and the punctuation people put in phone numbers, with enough digits to be one.
_PHONE_RE = re.compile(r"^\+?[\d\s().\-/]+$")
_PHONE_MIN_DIGITS = 7


def words_of(query: str) -> list[str]:
    if _PHONE_RE.match(query.strip()) and sum(ch.isdigit() for ch in query) >= _PHONE_MIN_DIGITS:
        # "(202) 555-0100" is one number, not three words. Leading zeros are a trunk or
        # international prefix ("020 ...", "00 44 ..."), which the indexed forms do not carry.
        digits = re.sub(r"\D", "", query).lstrip("0")
        return [digits] if digits else []
    return fold(query).split()[:MAX_WORDS]


def _by_name(qs, object_type: str, where: list[str], params: list):
    """``qs`` joined to its search_name rows, filtered by ``where`` on them, in folded-name order."""
    table = qs.model._meta.db_table
    return qs.extra(
        tables=["search_name"],
        where=["search_name.kind = %s", f'search_name.object_id = "{table}"."id"', *where],
        params=[object_type, *params],
        select={"search_name_key": "search_name.name_key"},
    ).order_by("search_name_key", "pk")


def _prefix_range(folded: str) -> tuple[str, str]:
    """[low, high): every key that starts with ``folded`` sorts in it (byte order on both databases)."""
    return folded, folded[:-1] + chr(ord(folded[-1]) + 1)


def _name_prefix(qs, object_type: str, folded: str):
    """The records whose folded name starts with ``folded``: a range scan of the search_name index that
    stops at the LIMIT (the exact name sorts first: it is the shortest key)."""
    return _by_name(qs, object_type, ["search_name.name_key >= %s", "search_name.name_key < %s"],
                    list(_prefix_range(folded)))  # fmt: skip


def _other_matches(visible, object_type: str, words: list[str], folded: str, phrase: bool, need: int) -> list:
    """The text matches whose name does not start with the query, first ``need`` by folded name.

    The sort runs on the narrow search_name rows, not on the records (at a million contacts a common
    prefix matches thousands, and reading each record row was most of the search); then the best
    candidates go through the visibility filter. Only when too few of them are visible does the
    whole match set go through it, which gives the same records."""
    be = backend()
    rows_sql, params = be.match_rows_sql(object_type, words, phrase=phrase)
    low, high = _prefix_range(folded)
    wanted = max(4 * need, 40)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT object_id FROM search_name WHERE id IN ({rows_sql}) AND (name_key < %s OR name_key >= %s) "
            f"ORDER BY name_key, object_id LIMIT {wanted}",
            [*params, low, high],
        )
        candidates = [r[0] for r in cur.fetchall()]
    seen = visible.in_bulk(candidates)
    found = [seen[pk] for pk in candidates if pk in seen]
    if len(found) >= need or len(candidates) < wanted:
        return found[:need]
    sql, params = be.match_sql(object_type, words, phrase=phrase, fuzzy=False)
    others = _by_name(visible.filter(pk__in=RawSQL(sql, params)), object_type,
                      ["(search_name.name_key < %s OR search_name.name_key >= %s)"], [low, high])  # fmt: skip
    return list(others[:need])


def search(user, query: str, *, types: list[str] | None = None, limit: int = 10) -> dict[str, list]:
    """{object_type: [records]} best first: exact name, then name prefix, then the other matches, each
    by folded name (lower case, no accents). Every word must match as a prefix; a query with an "@" (an
    email address or part of one) matches its words in that order. On PostgreSQL, a type with no match
    at all is searched again tolerating typos (trigram similarity)."""
    words = words_of(query)
    results: dict[str, list] = {}
    if not words:
        return results
    be = backend()
    folded = " ".join(words)
    phrase = "@" in query
    for object_type, entry in searchables().items():
        if types and object_type not in types:
            continue
        visible = entry.model.objects.restrict(user, "view")
        found = list(_name_prefix(visible, object_type, folded)[:limit])
        if len(found) < limit:  # then `found` holds every visible name-prefix match
            found += _other_matches(visible, object_type, words, folded, phrase, limit - len(found))
        if not found and be.fuzzy and not phrase:
            sql, params = be.match_sql(object_type, words, fuzzy=True)
            found = list(_by_name(visible.filter(pk__in=RawSQL(sql, params)), object_type, [], [])[:limit])
        results[object_type] = found
    return results
