"""Reads of any declared record type (crm.core.recordtypes): the restricted queryset with a list's
filters, ``?q=`` and sort applied, and one record checked for an action. The API, the web pages and
exports read through these, so a list, an export and an API page of the same filters hold the same
records.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Q
from django.db.models.expressions import RawSQL

from crm.access.policy import policy_for
from crm.core.errors import BadRequest, PermissionDenied
from crm.core.filters import build_q, filter_fields_of, spans_many
from crm.core.paging import Sort, parse_sort
from crm.customization.models import FieldType
from crm.customization.validation import definitions
from crm.records.services.common import get_visible
from crm.search.backends import backend as search_backend
from crm.search.query import words_of
from crm.search.registry import searchables

RESERVED = {"limit", "cursor", "sort", "q"}  # list parameters that are not filters


def get_for(model_or_qs, user, pk, action: str = "view"):
    """The record ``user`` may ``action``: 404 when they cannot see it (existence is not revealed),
    403 when they see it but their role lacks the action (a read-only user editing)."""
    obj = get_visible(model_or_qs, user, pk)
    model = type(obj)
    # Scope does not depend on the action, so a visible record plus an allowed action is enough.
    if not policy_for(user).allows(model.object_type, action):
        raise PermissionDenied(f"You may not {action} {model._meta.verbose_name_plural}.")
    return obj


def sort_of(rt, raw: str | None) -> Sort:
    """The requested sort; a custom field must be defined for the type (a typo is a 400, not a no-op)."""
    sort = parse_sort(raw, rt.sorts, rt.api.default_sort)
    if sort.path.startswith("custom_fields__"):
        key = sort.path.split("__", 1)[1]
        definition = definitions(rt.object_type).get(key)
        if definition is None:
            raise BadRequest(f"Cannot sort by cf_{key}.", fields={"sort": f"No custom field {key!r} on this type."})
        if definition.field_type == FieldType.MULTI_CHOICE:  # a list has no order (nor a cursor)
            raise BadRequest(f"Cannot sort by cf_{key}.", fields={"sort": "Multi-choice fields cannot be sorted."})
    return sort


def related_qs(rt):
    """All rows, with what the API's output schema reads loaded in a fixed number of queries."""
    qs = rt.model.objects.prefetch_related(*rt.api.prefetch)
    # Not select_related() with no names: that joins every non-null foreign key (a deal page of 50
    # built 150 stage/pipeline objects nobody reads).
    return qs.select_related(*rt.api.select_related) if rt.api.select_related else qs


def filtered(rt, user, params: Mapping[str, str], action: str = "view", *, related: bool = True):
    """The restricted queryset with a list's filters and ``q`` applied (lists and exports).
    ``related=False``: without the prefetches (the caller loads nested lists itself)."""
    filters = filter_fields_of(rt)
    conditions = {k: v for k, v in params.items() if k not in RESERVED}
    cond = build_q(rt.object_type, conditions, filters)
    qs = related_qs(rt).restrict(user, action) if related else rt.model.objects.restrict(user, action)
    if spans_many(rt.model, conditions, filters):  # each record once, however many tags/emails match
        qs = qs.filter(pk__in=rt.model.objects.filter(cond).values("pk"))
    else:
        qs = qs.filter(cond)
    q = (params.get("q") or "").strip()
    return matching(rt, qs, q) if q else qs


def matching(rt, qs, q: str):
    """``qs`` narrowed to the records ``q`` finds: through the search index for an indexed type,
    else every word in one of the type's text fields."""
    words = words_of(q)
    if not words:
        return qs.none()
    if rt.object_type in searchables():
        sql, sql_params = search_backend().match_sql(rt.object_type, words)
        return qs.filter(pk__in=RawSQL(sql, sql_params))
    for w in words:
        cond = Q()
        for f in rt.api.text_fields:
            cond |= Q(**{f"{f}__icontains": w})
        qs = qs.filter(cond)
    return qs
