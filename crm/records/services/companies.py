"""Companies (accounts): create, update, delete, with domains normalized and duplicates reported."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction

from crm.audit import changelog
from crm.core import rawinsert
from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_phone
from crm.customization.validation import clean_custom_fields
from crm.records.models import Company, CompanyDomain
from crm.records.services import bulk, common
from crm.records.services.duplicates import company_duplicates

FIELDS = (
    "name",
    "industry",
    "size",
    "annual_revenue",
    "phone",
    "website",
    "parent",
    "owner",
    "lifecycle_stage",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
)


def _prepare(data: dict, actor, obj: Company | None) -> tuple[dict, list[str] | None]:
    data = dict(data)
    errors: dict[str, str] = {}
    common.normalized(data, "phone", normalize_phone, errors)
    domains = data.pop("domains", None)
    from_single = False  # the first item is the bare `domain` value: errors name that field
    if "domain" in data:
        primary = data.pop("domain")
        # A bare `domain` replaces the primary one (like a contact's `email`), keeping the others.
        others = [d.domain for d in obj.domains.all() if d.domain != obj.domain] if obj else []
        rest = domains if domains is not None else others
        domains = [primary, *rest] if primary else rest
        from_single = bool(primary)
    clean = []
    for i, raw in enumerate(domains or []):
        try:
            clean.append(normalize_domain(raw))
        except Exception as exc:  # InvalidValue, or a non-string from a loose caller
            errors["domain" if from_single and i == 0 else f"domains.{i}"] = str(exc)
    common.resolve_related(data, "parent", Company, actor, errors)
    common.resolve_user(data, "owner", errors)
    if obj and data.get("parent") is not None and _would_cycle(obj, data["parent"]):
        errors["parent_id"] = "A company cannot be its own parent or ancestor."
    common.raise_if(errors)
    return data, (list(dict.fromkeys(clean)) if domains is not None else None)


def _would_cycle(obj: Company, parent: Company) -> bool:
    seen, node = set(), parent
    while node is not None and node.pk not in seen:
        if node.pk == obj.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _set_domains(company: Company, domains: list[str] | None) -> None:
    if domains is None:
        return
    company.domain = domains[0] if domains else ""
    company.save(update_fields=["domain"])
    company.domains.exclude(domain__in=domains).delete()
    existing = set(company.domains.values_list("domain", flat=True))
    CompanyDomain.objects.bulk_create([CompanyDomain(company=company, domain=d) for d in domains if d not in existing])


@transaction.atomic
def company_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Company, "add", data)
    data = {"owner_id": actor.pk, **data}
    data, domains = _prepare(data, actor, None)
    company = Company()
    common.assign(company, data, FIELDS)
    company.domain = domains[0] if domains else ""
    common.apply_custom_fields(company, data, creating=True)
    common.full_clean(company)
    common.save_new(company, actor=actor)
    _set_domains(company, domains)
    common.set_tags(company, data.get("tags"))
    common.finish_create(company, actor)
    return common.Saved(company, company_duplicates(actor, company))


@transaction.atomic
def company_update(company: Company, *, actor, data: dict, version: int | None = None) -> common.Saved:
    company = common.lock_for_write(company, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(company)
    data, domains = _prepare(data, actor, company)
    common.assign(company, data, FIELDS)
    common.apply_custom_fields(company, data, creating=False)
    common.full_clean(company)
    common.save_existing(company)
    _set_domains(company, domains)
    common.set_tags(company, data.get("tags"))
    common.finish_update(company, actor, before)
    return common.Saved(company)


@transaction.atomic
def company_delete(company: Company, *, actor, version: int | None = None) -> None:
    common.delete_record(company, actor=actor, version=version)


def company_create_many(*, actor, items: list[dict]) -> list[Company | ValidationFailed]:
    """Create many companies in a few statements (imports); each slot of the result is the new
    company or the ValidationFailed that kept it out. company_create's rules, without the
    possible-duplicates lookup (an import matches on domain itself). Run inside a transaction."""
    results, built = bulk.create_many(actor, Company, items, _build, related=[("parent", Company)])
    rawinsert.insert(CompanyDomain, ("company_id", "domain"), ((c.pk, d) for _, c, _, ds in built for d in ds))
    bulk.finish(
        actor,
        [b[1] for b in built],
        extras=[{"tags": sorted(t.name for t in tags), "domains": sorted(ds)} for _, _, tags, ds in built],
        prefetched=[{"domains": [SimpleNamespace(domain=d) for d in ds]} for _, _, _, ds in built],
    )
    return results


def _build(batch: bulk.Batch, data: dict, errors: dict):
    """One item of company_create_many: normalized, validated, not saved."""
    common.normalized(data, "phone", normalize_phone, errors)
    single = data.pop("domain", None)
    raw = [("domain", single)] if single else []
    raw += [(f"domains.{i}", d) for i, d in enumerate(data.pop("domains", None) or [])]
    domains = []
    for key, value in raw:
        try:
            domains.append(normalize_domain(value))
        except (InvalidValue, TypeError, AttributeError) as exc:
            errors[key] = str(exc)
    domains = list(dict.fromkeys(domains))
    company = bulk.new(
        Company, owner_id=data.pop("owner_id", None), parent_id=data.pop("parent_id", None), **batch.stamps
    )
    common.assign(company, {k: v for k, v in data.items() if k not in ("owner", "parent")}, FIELDS)
    company.domain = domains[0] if domains else ""
    tags = []
    try:
        company.custom_fields = clean_custom_fields("company", data.get("custom_fields"), defs=batch.defs)
        tags = batch.tag_objects(data.get("tags"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    errors.update({k: v for k, v in bulk.clean(company).items() if k not in errors})
    return company, tags, domains
