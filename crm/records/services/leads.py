"""Leads: unqualified prospects. Conversion lives in conversion.py."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import ValidationFailed
from crm.core.normalize import normalize_email, normalize_phone
from crm.customization.validation import clean_custom_fields
from crm.privacy import blocklist
from crm.records.models import Lead, LeadStatus
from crm.records.services import bulk, common
from crm.records.services.duplicates import lead_duplicates

FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "title",
    "email",
    "phone",
    "website",
    "status",
    "disqualified_reason",
    "source",
    "score",
    "owner",
)


def _prepare(data: dict) -> dict:
    data = dict(data)
    errors: dict[str, str] = {}
    common.normalized(data, "email", normalize_email, errors)
    common.normalized(data, "phone", normalize_phone, errors)
    common.resolve_user(data, "owner", errors)
    common.raise_if(errors)
    return data


def _validate(lead: Lead) -> None:
    if not (lead.name or lead.company_name or lead.email or lead.phone):
        raise common.ValidationFailed({"last_name": "A lead needs a name, a company, an email or a phone."})
    if lead.status == LeadStatus.DISQUALIFIED and not lead.disqualified_reason:
        raise common.ValidationFailed({"disqualified_reason": "Say why the lead is disqualified."})
    common.full_clean(lead)


def _apply(lead: Lead, data: dict) -> None:
    common.assign(lead, data, FIELDS)
    lead.name = f"{lead.first_name} {lead.last_name}".strip()


@transaction.atomic
def lead_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Lead, "add", data)
    data = _prepare({"owner_id": actor.pk, **data})
    blocklist.refuse([data.get("email")], [data.get("phone")])
    lead = Lead()
    _apply(lead, data)
    common.apply_custom_fields(lead, data, creating=True)
    _validate(lead)
    common.save_new(lead, actor=actor)
    common.set_tags(lead, data.get("tags"))
    common.finish_create(lead, actor)
    return common.Saved(lead, lead_duplicates(actor, lead))


@transaction.atomic
def lead_update(lead: Lead, *, actor, data: dict, version: int | None = None) -> common.Saved:
    lead = common.lock_for_write(lead, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(lead)
    data = _prepare(data)
    blocklist.refuse([data.get("email")], [data.get("phone")], held=(lead.email, lead.phone))
    _apply(lead, data)
    common.apply_custom_fields(lead, data, creating=False)
    _validate(lead)
    common.save_existing(lead)
    common.set_tags(lead, data.get("tags"))
    common.finish_update(lead, actor, before)
    return common.Saved(lead)


@transaction.atomic
def lead_delete(lead: Lead, *, actor, version: int | None = None) -> None:
    common.delete_record(lead, actor=actor, version=version)


def lead_create_many(*, actor, items: list[dict]) -> list[Lead | ValidationFailed]:
    """Create many leads in a few statements (imports); each slot of the result is the new lead or
    the ValidationFailed that kept it out. lead_create's rules, without the possible-duplicates
    lookup (an import matches on email itself). Run inside the caller's transaction."""
    results, built = bulk.create_many(actor, Lead, items, _build)
    bulk.finish(actor, [b[1] for b in built], [{"tags": sorted(t.name for t in b[2])} for b in built])
    return results


def _build(batch: bulk.Batch, data: dict, errors: dict):
    """One item of lead_create_many: normalized, validated, not saved."""
    common.normalized(data, "email", normalize_email, errors)
    common.normalized(data, "phone", normalize_phone, errors)
    errors.update(blocklist.errors([data.get("email")], [data.get("phone")], batch=batch))
    lead = bulk.new(Lead, owner_id=data.pop("owner_id", None), **batch.stamps)
    _apply(lead, {k: v for k, v in data.items() if k != "owner"})
    tags = []
    try:
        lead.custom_fields = clean_custom_fields("lead", data.get("custom_fields"), defs=batch.defs)
        tags = batch.tag_objects(data.get("tags"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not (lead.name or lead.company_name or lead.email or lead.phone):
        errors.setdefault("last_name", "A lead needs a name, a company, an email or a phone.")
    if lead.status == LeadStatus.DISQUALIFIED and not lead.disqualified_reason:
        errors.setdefault("disqualified_reason", "Say why the lead is disqualified.")
    errors.update({k: v for k, v in bulk.clean(lead).items() if k not in errors})
    return lead, tags
