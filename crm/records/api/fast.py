"""Hot reads (list pages, detail) serialized without the schema machinery.

Ninja validates a response by reading every attribute through its per-attribute getter, and the
prefetches behind the nested lists build a queryset per record; at 50 records a page that was
most of a request's time. Here a page of records (plain model instances, no prefetch) becomes the
dicts the output schema would produce: the record's own columns straight from the instance, and each
nested list from one ``values_list`` query for the whole page, in the order the prefetch gave.
The keys follow the schema's field order; tests/test_api_fast.py checks the JSON is byte for byte
what the schema path renders. The schemas stay the declared response (OpenAPI).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from crm.customization import secrets
from crm.records.models import Company, Contact, Deal
from crm.records.models.companies import CompanyDomain
from crm.records.models.contacts import ContactEmail, ContactPhone, PastCompany
from crm.records.models.deals import DealContact


def _grouped(qs, key: str, fields: tuple[str, ...], make: Callable) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for row in qs.values_list(key, *fields):
        out[row[0]].append(make(*row[1:]))
    return out


def _tags(model):
    def load(ids):
        fk = f"{model._meta.model_name}_id"
        through = model.tags.through.objects.filter(**{f"{fk}__in": ids}).order_by("tag__name")  # Tag's ordering
        return _grouped(through, fk, ("tag__name",), lambda name: name)

    return load


def _related(model, fk: str, fields: tuple[str, ...], make: Callable):
    def load(ids):
        return _grouped(model.objects.filter(**{f"{fk}__in": ids}), fk, fields, make)

    return load


# Per model: the schema's nested (resolved) fields and how to load them for a page of ids.
NESTED: dict[type, dict[str, Callable]] = {
    Contact: {
        "tags": _tags(Contact),
        "emails": _related(ContactEmail, "contact_id", ("email", "kind", "is_primary"),
                           lambda e, k, p: {"email": e, "kind": k, "primary": p}),
        "phones": _related(ContactPhone, "contact_id", ("number", "kind", "is_primary"),
                           lambda n, k, p: {"number": n, "kind": k, "primary": p}),
        "past_companies": _related(PastCompany, "contact_id", ("company_id", "title", "ended_at"),
                                   lambda c, t, e: {"company_id": c, "title": t, "ended_at": e}),
    },
    Deal: {
        "tags": _tags(Deal),
        "contacts": _related(DealContact, "deal_id", ("contact_id", "role"), lambda c, r: {"contact_id": c, "role": r}),
    },
    Company: {
        "tags": _tags(Company),
        "domains": _related(CompanyDomain, "company_id", ("domain",), lambda d: d),
    },
}  # fmt: skip


def dumper(model, schema) -> Callable[[list], list[dict]] | None:
    """A function from a page of ``model`` instances to the schema's dicts, or None when the schema has a
    field this module does not know how to load (that type keeps the schema path)."""
    nested = NESTED.get(model)
    if nested is None:
        return None
    names = list(schema.model_fields)
    columns = {f.attname for f in model._meta.concrete_fields}
    if any(n not in nested and n not in columns for n in names):
        return None
    plain = [n for n in names if n not in nested]

    def dump(objs: list) -> list[dict]:
        ids = [o.pk for o in objs]
        loaded = {name: load(ids) for name, load in nested.items() if name in names}
        out = []
        for obj in objs:
            values = obj.__dict__
            row = {n: values[n] for n in plain}
            if "custom_fields" in row:  # as Out.resolve_custom_fields: encrypted values decrypted
                row["custom_fields"] = secrets.reveal(row["custom_fields"])
            for name, by_id in loaded.items():
                row[name] = by_id.get(obj.pk, [])
            out.append({n: row[n] for n in names})
        return out

    return dump
