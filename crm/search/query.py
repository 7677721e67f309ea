"""Global search: one call, every searchable type, ranked, filtered by what the user may see."""

from __future__ import annotations

import re

from django.db.models import Case, IntegerField, Value, When
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


def search(user, query: str, *, types: list[str] | None = None, limit: int = 10) -> dict[str, list]:
    """{object_type: [records]} best first: exact name, then name prefix, then other matches."""
    words = words_of(query)
    results: dict[str, list] = {}
    if not words:
        return results
    be = backend()
    folded = " ".join(words)
    for object_type, entry in searchables().items():
        if types and object_type not in types:
            continue
        sql, params = be.match_sql(object_type, words)
        name = entry.name_field
        qs = (
            entry.model.objects.restrict(user, "view")
            .filter(pk__in=RawSQL(sql, params))
            .annotate(
                search_rank=Case(
                    When(**{f"{name}__iexact": folded}, then=Value(0)),
                    When(**{f"{name}__istartswith": folded}, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            .order_by("search_rank", name, "pk")
        )
        results[object_type] = list(qs[:limit])
    return results
