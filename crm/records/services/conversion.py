"""Lead conversion: a lead becomes a contact, a company (matched when they exist) and maybe a deal."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core import clock
from crm.core.errors import Conflict, ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain
from crm.records.models import Activity, Company, CompanyDomain, Contact, ContactEmail, Lead, LeadStatus, Task
from crm.records.services import common, links
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create, contact_update
from crm.records.services.deals import deal_create

FREE_MAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "gmx.com", "proton.me"}


def _lead_domains(lead: Lead) -> list[str]:
    """The company domains a lead shows: its email's (unless free mail) and its website's."""
    domains = []
    if lead.email and lead.email.rsplit("@", 1)[-1] not in FREE_MAIL:
        domains.append(lead.email.rsplit("@", 1)[-1])
    if lead.website:
        try:
            domains.append(normalize_domain(lead.website))
        except InvalidValue:
            pass
    return [d for d in dict.fromkeys(domains) if d not in FREE_MAIL]


def _match_company(actor, lead: Lead) -> Company | None:
    visible = Company.objects.restrict(actor)
    domains = _lead_domains(lead)
    if domains:
        ids = CompanyDomain.objects.filter(domain__in=domains).values("company_id")
        if found := visible.filter(pk__in=ids).order_by("id").first():
            return found
    if lead.company_name:
        return visible.filter(name__iexact=lead.company_name).order_by("id").first()
    return None


def _match_contact(actor, lead: Lead) -> Contact | None:
    if not lead.email:
        return None
    ids = ContactEmail.objects.filter(email=lead.email).values("contact_id")
    return Contact.objects.restrict(actor).filter(pk__in=ids).order_by("id").first()


def _relink(lead: Lead, targets: dict, actor) -> None:
    """Link the lead's activities and tasks to the new records too (where a row has no record of that
    type yet), each change logged."""
    for model in (Activity, Task):
        for obj in model.objects.linked_to(lead).prefetch_related(*model.snapshot_prefetch):
            before = changelog.snapshot(obj)
            pairs = [(lk.record_type, lk.record_id) for lk in obj.links.all()]
            had = {t for t, _ in pairs}
            pairs += [(t, target.pk) for t, target in targets.items() if target is not None and t not in had]
            common.save_existing(obj)
            links.apply(obj, pairs)
            changelog.log_update(actor, obj, before)


@transaction.atomic
def lead_convert(
    lead: Lead,
    *,
    actor,
    contact: Contact | None = None,
    company: Company | None = None,
    create_company: bool = True,
    deal: dict | None = None,
) -> dict:
    """Convert in one transaction; returns {"contact", "company", "deal"}.

    ``contact``/``company`` pick existing records; otherwise they are matched by email and
    domain (or company name) and created when none match. ``deal`` holds the fields of a deal
    to open (name, amount, pipeline_id, stage_id, ...), or None for no deal. The lead's
    activities and tasks are linked to the new records and stay on the lead too.
    """
    lead = common.lock_for_write(lead, actor=actor, action="change", version=None)
    if lead.converted_at:
        raise Conflict("This lead is already converted.", code="already_converted")
    for model in (Contact, Company):
        common.require(actor, model, "add")
    before = changelog.snapshot(lead)
    company = company or _match_company(actor, lead)
    if company is None and create_company and lead.company_name:
        company = company_create(
            actor=actor,
            data={
                "name": lead.company_name,
                "owner_id": lead.owner_id or actor.pk,
                "website": lead.website,
                "domains": _lead_domains(lead),
            },
        ).obj
    contact = contact or _match_contact(actor, lead)
    if contact is None:
        contact = contact_create(
            actor=actor,
            data={
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "title": lead.title,
                "email": lead.email or None,
                "phone": lead.phone or None,
                "source": lead.source,
                "company_id": company.pk if company else None,
                "owner_id": lead.owner_id or actor.pk,
                "lifecycle_stage": "sales_qualified",
                "tags": [t.name for t in lead.tags.all()],
            },
        ).obj
    elif company and contact.company_id is None:
        contact = contact_update(contact, actor=actor, data={"company_id": company.pk}).obj
    new_deal = None
    if deal is not None:
        if not deal.get("name"):
            raise ValidationFailed({"deal.name": "A deal needs a name."})
        try:
            new_deal = deal_create(
                actor=actor,
                data={
                    "owner_id": lead.owner_id or actor.pk,
                    **deal,
                    "company_id": company.pk if company else None,
                    "contacts": [{"contact_id": contact.pk, "role": "decision_maker"}],
                },
            ).obj
        except ValidationFailed as exc:  # name the fields as the caller sent them: inside "deal"
            raise ValidationFailed({f"deal.{k}": v for k, v in exc.fields.items()}, exc.message) from None
    targets = {"contact": contact, "company": company, "deal": new_deal}
    targets = {k: v for k, v in targets.items() if v is not None}
    _relink(lead, targets, actor)
    lead.status = LeadStatus.QUALIFIED
    lead.converted_at = clock.now()  # the demo loader converts inside clock.at: its history, not today
    lead.converted_contact, lead.converted_company, lead.converted_deal = contact, company, new_deal
    common.save_existing(lead)
    common.finish_update(lead, actor, before)
    return {"contact": contact, "company": company, "deal": new_deal}
