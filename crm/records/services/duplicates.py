"""Possible duplicates reported on create: same email, phone or domain, among visible records."""

from __future__ import annotations

from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, ContactPhone, Lead


def _hit(obj, match: str) -> dict:
    return {"object_type": obj.object_type, "id": obj.pk, "name": str(obj), "match": match}


def company_duplicates(actor, company: Company) -> list[dict]:
    hits = []
    visible = Company.objects.restrict(actor).exclude(pk=company.pk)
    domains = list(company.domains.values_list("domain", flat=True))
    if domains:
        ids = CompanyDomain.objects.filter(domain__in=domains).values("company_id")
        hits += [_hit(c, "domain") for c in visible.filter(pk__in=ids)[:5]]
    if company.phone:
        hits += [_hit(c, "phone") for c in visible.filter(phone=company.phone)[:5]]
    return _unique(hits)


def contact_duplicates(actor, contact: Contact) -> list[dict]:
    hits = []
    visible = Contact.objects.restrict(actor).exclude(pk=contact.pk)
    emails = list(contact.emails.values_list("email", flat=True))
    if emails:
        ids = ContactEmail.objects.filter(email__in=emails).values("contact_id")
        hits += [_hit(c, "email") for c in visible.filter(pk__in=ids)[:5]]
    phones = list(contact.phones.values_list("number", flat=True))
    if phones:
        ids = ContactPhone.objects.filter(number__in=phones).values("contact_id")
        hits += [_hit(c, "phone") for c in visible.filter(pk__in=ids)[:5]]
    return _unique(hits)


def lead_duplicates(actor, lead: Lead) -> list[dict]:
    hits = []
    leads = Lead.objects.restrict(actor).exclude(pk=lead.pk)
    contacts = Contact.objects.restrict(actor)
    if lead.email:
        hits += [_hit(o, "email") for o in leads.filter(email=lead.email)[:5]]
        ids = ContactEmail.objects.filter(email=lead.email).values("contact_id")
        hits += [_hit(o, "email") for o in contacts.filter(pk__in=ids)[:5]]
    if lead.phone:
        hits += [_hit(o, "phone") for o in leads.filter(phone=lead.phone)[:5]]
        ids = ContactPhone.objects.filter(number=lead.phone).values("contact_id")
        hits += [_hit(o, "phone") for o in contacts.filter(pk__in=ids)[:5]]
    return _unique(hits)


def _unique(hits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for h in hits:
        key = (h["object_type"], h["id"])
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out
