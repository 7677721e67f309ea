"""Global search: one call, every searchable type, ranked, filtered by what the user may see."""

from __future__ import annotations

import re

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


def _name_prefix(qs, object_type: str, folded: str):
    """The records whose folded name starts with ``folded``, by folded name: a range scan of the
    search_name index that stops at the LIMIT (the exact name sorts first: it is the shortest key)."""
    table = qs.model._meta.db_table
    upper = folded[:-1] + chr(ord(folded[-1]) + 1)  # every key starting with `folded` sorts below this
    return qs.extra(
        tables=["search_name"],
        where=[
            "search_name.kind = %s",
            f'search_name.object_id = "{table}"."id"',
            "search_name.name_key >= %s",
            "search_name.name_key < %s",
        ],
        params=[object_type, folded, upper],
        select={"search_name_key": "search_name.name_key"},
    ).order_by("search_name_key", "pk")


def search(user, query: str, *, types: list[str] | None = None, limit: int = 10) -> dict[str, list]:
    """{object_type: [records]} best first: exact name, then name prefix (both by folded name), then
    the other matches by name. Every word must match as a prefix; a query with an "@" (an email
    address or part of one) matches its words in that order. On PostgreSQL, a type with no match
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
            sql, params = be.match_sql(object_type, words, phrase=phrase, fuzzy=False)
            others = visible.filter(pk__in=RawSQL(sql, params)).exclude(pk__in=[o.pk for o in found])
            found += others.order_by(entry.name_field, "pk")[: limit - len(found)]
        if not found and be.fuzzy and not phrase:
            sql, params = be.match_sql(object_type, words, fuzzy=True)
            found = list(visible.filter(pk__in=RawSQL(sql, params)).order_by(entry.name_field, "pk")[:limit])
        results[object_type] = found
    return results
