"""Global search: one call, every searchable type, ranked, filtered by what the user may see."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import RawSQL

from crm.search.backends import backend
from crm.search.registry import fold, searchables

MAX_WORDS = 8


def words_of(query: str) -> list[str]:
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
