"""Reads of any declared record type (crm.core.recordtypes): the restricted queryset with a list's
filters, ``?q=`` and sort applied, and one record checked for an action. The API, the web pages and
exports read through these, so a list, an export and an API page of the same filters hold the same
records.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Q, prefetch_related_objects
from django.db.models.expressions import RawSQL

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.errors import BadRequest, PermissionDenied
from crm.core.filters import build_q, filter_fields_of, refuse_hidden, spans_many
from crm.core.paging import Sort, parse_sort
from crm.customization.models import FieldType
from crm.customization.validation import definitions
from crm.records.services.common import get_visible
from crm.search.backends import backend as search_backend
from crm.search.backends import typo_tolerant
from crm.search.hidden import blanked, finds, hidden_searchable, hidden_text_names
from crm.search.query import words_of
from crm.search.registry import searchables

RESERVED = {"limit", "cursor", "sort", "q"}  # list parameters that are not filters


def get_for(model_or_qs, user, pk, action: str = "view"):
    """The record ``user`` may ``action``: 404 when they cannot see it (existence is not revealed),
    403 when they see it but may not act on it: their role lacks the action (a read-only user editing),
    or they see it only through a link (a colleague's call on their deal). The services check the
    same again when they write."""
    obj = get_visible(model_or_qs, user, pk)
    rt = recordtypes.of(obj)
    if not policy_for(user).allows(obj.object_type, action):
        raise PermissionDenied(f"You may not {action} {rt.plural}.")
    if not may(user, obj, action):
        raise PermissionDenied(f"You may not {action} this {rt.singular}.")
    return obj


def may(user, obj, action: str) -> bool:
    """Whether ``user`` may ``action`` this record (its type's permission and its scope): what a page
    offers as buttons, the same rule get_for and the services apply."""
    if not policy_for(user).allows(obj.object_type, action):
        return False
    return action == "view" or recordtypes.of(obj).restricted(user, action).filter(pk=obj.pk).exists()


# A row shows first the record it is most likely about (the old per-type columns' order).
LINK_ORDER = ("contact", "deal", "company", "lead")


def attach_linked(rows: list, user) -> list:
    """Each activity or task in ``rows`` gets ``linked``: the records it is linked to that ``user`` may
    open, contacts first: one query for the links and one per linked type, whatever the row count.
    A feed shows no name of, and no link to, a record that would be a 404, nor the links of a type
    whose link field is hidden from the user's role (crm/access/fieldrules.py)."""
    if not rows:
        return rows
    prefetch_related_objects(rows, "links")
    policy = policy_for(user)
    hidden = {
        t: fieldrules.link_types(rt, policy.hidden_fields(t))
        for t in {r.object_type for r in rows}
        if (rt := recordtypes.by_type(t)) is not None
    }
    wanted: dict[str, set[int]] = {}
    for row in rows:
        for lk in row.links.all():
            if lk.record_type not in hidden.get(row.object_type, ()):
                wanted.setdefault(lk.record_type, set()).add(lk.record_id)
    found = {}
    for object_type, ids in wanted.items():
        rt = recordtypes.by_type(object_type)
        if rt is not None:
            found |= {(object_type, o.pk): o for o in rt.restricted(user).filter(pk__in=ids)}
    rank = {t: i for i, t in enumerate(LINK_ORDER)}
    for row in rows:
        ordered = sorted(row.links.all(), key=lambda lk: (rank.get(lk.record_type, len(rank)), lk.pk))
        gone = hidden.get(row.object_type, ())
        row.linked = [
            found[lk.record_type, lk.record_id]
            for lk in ordered
            if (lk.record_type, lk.record_id) in found and lk.record_type not in gone
        ]
    return rows


def record_links(model, names) -> list[str]:
    """Of ``names``, the foreign keys to record types (whose visibility is restricted)."""
    return [n for n in names if hasattr(model._meta.get_field(n).related_model, "object_type")]


def sort_of(rt, raw: str | None, user=None) -> Sort:
    """The requested sort; a custom field must be defined for the type (a typo is a 400, not a no-op),
    and not hidden from ``user``'s role (nor is the default sort, quietly replaced by the id)."""
    hidden = policy_for(user).hidden_fields(rt.object_type) if user is not None else frozenset()
    if hidden and raw:
        refuse_hidden({"sort": fieldrules.field_of(rt, raw.strip().lstrip("-"))}, hidden, sort=raw)
    default, allowed = rt.api.default_sort, rt.sorts
    if hidden and fieldrules.field_of(rt, default.lstrip("-")) in hidden:
        default, allowed = ("-id" if default.startswith("-") else "id"), {**allowed, "id": "id"}
    sort = parse_sort(raw, allowed, default)
    if sort.path.startswith("custom_fields__"):
        key = sort.path.split("__")[1]
        definition = definitions(rt.object_type).get(key)
        if definition is None:
            raise BadRequest(f"Cannot sort by cf_{key}.", fields={"sort": f"No custom field {key!r} on this type."})
        if definition.field_type == FieldType.MULTI_CHOICE:  # a list has no order (nor a cursor)
            raise BadRequest(f"Cannot sort by cf_{key}.", fields={"sort": "Multi-choice fields cannot be sorted."})
        if definition.encrypted:  # ciphertext has no meaningful order
            raise BadRequest(f"Cannot sort by cf_{key}.", fields={"sort": "Encrypted fields cannot be sorted."})
    return sort


def related_qs(rt):
    """All rows, with what the API's output schema reads loaded in a fixed number of queries."""
    qs = rt.objects().prefetch_related(*rt.api.prefetch)
    # Not select_related() with no names: that joins every non-null foreign key (a deal page of 50
    # built 150 stage/pipeline objects nobody reads).
    return qs.select_related(*rt.api.select_related) if rt.api.select_related else qs


def filtered(rt, user, params: Mapping[str, str], action: str = "view", *, related: bool = True):
    """The restricted queryset with a list's filters and ``q`` applied (lists and exports).
    ``related=False``: without the prefetches (the caller loads nested lists itself)."""
    filters = filter_fields_of(rt)
    conditions = {k: v for k, v in params.items() if k not in RESERVED}
    hidden = policy_for(user).hidden_fields(rt.object_type)
    if hidden:  # a filter on a hidden field would tell its values by which records match
        refuse_hidden({k: fieldrules.field_of(rt, k.partition("__")[0]) for k in conditions}, hidden)
    cond = build_q(rt.object_type, conditions, filters)
    qs = related_qs(rt).restrict(user, action) if related else rt.restricted(user, action)
    if spans_many(rt.model, conditions, filters):  # each record once, however many tags/emails match
        qs = qs.filter(pk__in=rt.objects().filter(cond).values("pk"))
    else:
        qs = qs.filter(cond)
    q = (params.get("q") or "").strip()
    return matching(rt, qs, q, policy_for(user)) if q else qs


def matching(rt, qs, q: str, policy=None):
    """``qs`` narrowed to the records ``q`` finds: through the search index for an indexed type,
    else every word in one of the type's text fields. With the reader's ``policy``, a field hidden
    from their role finds nothing (crm/search/hidden.py)."""
    words = words_of(q)
    if not words:
        return qs.none()
    hidden = policy.hidden_fields(rt.object_type) if policy is not None else frozenset()
    if rt.object_type in searchables():
        guarded = hidden_searchable(policy, rt.object_type) if hidden else frozenset()
        found = _indexed(rt, qs, words, guarded, fuzzy=False)
        # As global search does (crm/search/query.py): typos are tolerated only when nothing visible
        # matches exactly. Tolerating them always put PostgreSQL's trigram check on every row of a
        # common word (?q=widget at 100,000 products: ~420 ms against ~20 ms, docs/benchmarks.md).
        be = search_backend()
        if be.fuzzy and any(typo_tolerant(w) for w in words) and not found.exists():
            return _indexed(rt, qs, words, guarded, fuzzy=True)
        return found
    skipped = hidden_text_names(rt, policy) if hidden else set()
    for w in words:
        cond = Q(pk__in=[])
        for f in rt.api.text_fields:
            if f not in skipped:
                cond |= Q(**{f"{f}__icontains": w})
        qs = qs.filter(cond)
    return qs


def _indexed(rt, qs, words: list[str], guarded: frozenset[str], *, fuzzy: bool):
    sql, sql_params = search_backend().match_sql(rt.object_type, words, fuzzy=fuzzy)
    qs = qs.filter(pk__in=RawSQL(sql, sql_params))
    return _without_hidden_text(rt, qs, words, guarded) if guarded else qs


def _without_hidden_text(rt, qs, words: list[str], hidden: frozenset[str]):
    """``qs`` (the index's matches) without the records found only by the text of a hidden field: each
    match's search text is computed again with those fields blanked. In Python, match by match: only a
    role that hides a searchable field pays for it."""
    entry = searchables()[rt.object_type]
    rows = rt.objects().filter(pk__in=qs.values("pk")).prefetch_related(*entry.prefetch)
    kept = [o.pk for o in rows.iterator(chunk_size=500) if finds(entry.text(blanked(rt, o, hidden)), words)]
    return qs.filter(pk__in=kept)


def only_visible_links(rows: list, user, names) -> list:
    """``rows`` (loaded with ``names`` selected) with each linked record the user may not open blanked,
    one query per link: a feed or list shows no name of, and no link to, a record that would be a 404.
    The rows are display copies: never save them."""
    for name in names:
        ids = {getattr(r, f"{name}_id") for r in rows} - {None}
        if not ids:
            continue
        model = rows[0]._meta.get_field(name).related_model
        seen = set(model.objects.restrict(user).filter(pk__in=ids).values_list("pk", flat=True))
        for row in rows:
            if getattr(row, f"{name}_id") not in seen:
                setattr(row, name, None)
    return rows
