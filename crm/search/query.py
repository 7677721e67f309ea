"""Global search: one call, every searchable type, ranked, filtered by what the user may see."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models.expressions import RawSQL

from crm.access.policy import policy_for
from crm.search.backends import backend, typo_tolerant
from crm.search.hidden import hidden_searchable, visible_hits
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


def _candidates(kind: str, words: list[str], folded: str, phrase: bool, per_kind: int) -> list:
    """Object ids of the first ``per_kind`` text matches whose name does not start with the query, by
    folded name. The sort runs on the narrow search_name rows, not on the records (at a million contacts
    a common prefix matches thousands, and reading each record row was most of the search). One query
    per type: a single query over all types (a window per kind) measured 2-4x slower on SQLite."""
    rows_sql, params = backend().match_rows_sql(kind, words, phrase=phrase)
    low, high = _prefix_range(folded)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT object_id FROM search_name WHERE id IN ({rows_sql}) AND (name_key < %s OR name_key >= %s) "
            f"ORDER BY name_key, object_id LIMIT {int(per_kind)}",
            [*params, low, high],
        )
        return [r[0] for r in cur.fetchall()]


def _other_matches(visible, candidates: list, per_kind: int, fallback, need: int) -> list:
    """The first ``need`` visible records among the candidates; only when too few of them are visible
    does the whole match set go through the visibility filter (``fallback``), which gives the same."""
    seen = visible.in_bulk(candidates)
    found = [seen[pk] for pk in candidates if pk in seen]
    if len(found) >= need or len(candidates) < per_kind:
        return found[:need]
    return list(fallback()[:need])


def search(user, query: str, *, types: list[str] | None = None, limit: int = 10) -> dict[str, list]:
    """{object_type: [records]} best first: exact name, then name prefix, then the other matches, each
    by folded name (lower case, no accents). Every word must match as a prefix; a query with an "@" (an
    email address or part of one) matches its words in that order. On PostgreSQL, a type with no match
    at all is searched again tolerating typos (each word or its near known words, crm/search/words.py).
    A field hidden from the user's role neither finds a record nor shows in the hits (crm/search/hidden.py)."""
    # Without types: those the web app can open a hit of (its header search links every hit); the
    # API names every type it searches.
    entries = {t: e for t, e in searchables().items() if (t in types if types else e.pages)}
    words = words_of(query)
    if not words:  # only punctuation: no hits, in the same shape as any search without hits
        return {t: [] for t in entries}
    be = backend()
    folded = " ".join(words)
    low, high = _prefix_range(folded)
    phrase = "@" in query
    policy = policy_for(user)
    # A type with fields hidden from the reader: its hits are checked again without them (crm/search/
    # hidden.py), so more are read to fill the limit after that check drops some.
    guarded = {t for t in entries if hidden_searchable(policy, t)}
    want = {t: limit * 4 if t in guarded else limit for t in entries}
    visible = {t: e.records().restrict(user, "view") for t, e in entries.items()}
    results = {t: list(_name_prefix(visible[t], t, folded)[: want[t]]) for t in entries}
    fuzzy_hits = set()
    short = [t for t, found in results.items() if len(found) < want[t]]  # each holds every visible prefix match
    for t in short:
        per_kind = max(4 * want[t], 40)
        candidates = _candidates(t, words, folded, phrase, per_kind)
        sql, params = be.match_sql(t, words, phrase=phrase, fuzzy=False)
        outside = ["(search_name.name_key < %s OR search_name.name_key >= %s)"]

        def fallback(t=t, sql=sql, params=params, outside=outside):
            return _by_name(visible[t].filter(pk__in=RawSQL(sql, params)), t, outside, [low, high])

        results[t] += _other_matches(visible[t], candidates, per_kind, fallback, want[t] - len(results[t]))
        if not results[t] and be.fuzzy and not phrase and any(typo_tolerant(w) for w in words):
            sql, params = be.match_sql(t, words, fuzzy=True)
            results[t] = list(_by_name(visible[t].filter(pk__in=RawSQL(sql, params)), t, [], [])[: want[t]])
            fuzzy_hits.add(t)
    for t in guarded:
        found = visible_hits(policy, t, entries[t].text, results[t], words, phrase=phrase, fuzzy=t in fuzzy_hits)
        results[t] = found[:limit]
    return results
