"""The customer of an order that comes from outside: matched by the contact's email (normalized,
crm/core/normalize.py) and the company's domain or name, among the records the sender can see, the
oldest first; created through the record services when nothing matches (never raw writes)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_email
from crm.records.models import Company, Contact
from crm.records.services.companies import company_create, company_create_many
from crm.records.services.contacts import contact_create, contact_create_many


def _clean(customer: dict) -> dict:
    out, errors = {}, {}
    if customer.get("email"):
        try:
            out["email"] = normalize_email(customer["email"])
        except InvalidValue as exc:
            errors["customer.email"] = str(exc)
    if customer.get("company_domain"):
        try:
            out["domain"] = normalize_domain(customer["company_domain"])
        except InvalidValue as exc:
            errors["customer.company_domain"] = str(exc)
    for key in ("first_name", "last_name", "company_name"):
        out[key] = (customer.get(key) or "").strip()
    if errors:
        raise ValidationFailed(errors)
    if not (out.get("email") or out.get("domain") or out["company_name"]):
        raise ValidationFailed({"customer": "Name the customer: an email, a company name or a company domain."})
    return out


def find_company(actor, *, domain: str = "", name: str = "") -> Company | None:
    seen = Company.objects.restrict(actor, "view").order_by("id")
    if domain:
        found = seen.filter(Q(domain=domain) | Q(domains__domain=domain)).first()
        if found is not None:
            return found
    return seen.filter(name__iexact=name).first() if name else None


def find_contact(actor, email: str) -> Contact | None:
    seen = Contact.objects.restrict(actor, "view").order_by("id")
    return seen.filter(Q(email=email) | Q(emails__email=email)).first()


def match_or_create(actor, customer: dict, created: list | None = None) -> dict:
    """{"company_id", "contact_id"} of the customer the feed names, creating what is missing;
    ``created`` (a list) collects (object_type, id) of the records created, for an import's undo."""
    created = [] if created is None else created
    values = _clean(customer)
    company = None
    if values.get("domain") or values["company_name"]:
        company = find_company(actor, domain=values.get("domain", ""), name=values["company_name"])
        if company is None:
            data = {"name": values["company_name"] or values["domain"]}
            if values.get("domain"):
                data["domain"] = values["domain"]
            company = company_create(actor=actor, data=data).obj
            created.append((company.object_type, company.pk))
    contact = None
    if values.get("email"):
        contact = find_contact(actor, values["email"])
        if contact is None:
            data = {"first_name": values["first_name"], "last_name": values["last_name"], "email": values["email"]}
            if company is not None:
                data["company_id"] = company.pk
            contact = contact_create(actor=actor, data=data).obj
            created.append((contact.object_type, contact.pk))
        if company is None and contact.company_id:
            company = contact.company
    return {"company_id": company.pk if company else None, "contact_id": contact.pk if contact else None}


def match_or_create_many(actor, customers: list[dict], created: list) -> list[dict | ValidationFailed]:
    """match_or_create for many customers (an import's chunk) in a few queries: each slot is
    {"company_id", "contact_id"} or the ValidationFailed of that customer. The same rules in the same
    order (a company by domain, else by name, the oldest; a contact by email; what is missing created,
    once even if several customers name it, through the bulk create services). Run inside a
    transaction (the caller's savepoint takes back what a failed slot created)."""
    slots: list = []
    for customer in customers:
        try:
            slots.append(_clean(customer))
        except ValidationFailed as exc:
            slots.append(exc)
    values = [v for v in slots if isinstance(v, dict)]
    companies = _companies_of(actor, values, created)
    contacts = _contacts_of(actor, values, companies, created)
    out = []
    for v in slots:
        if not isinstance(v, dict):
            out.append(v)
            continue
        company = companies.get(_company_key(v))
        contact = contacts.get(v["email"]) if v.get("email") else None
        failed = next((x for x in (company, contact) if isinstance(x, ValidationFailed)), None)
        if failed is not None:
            out.append(failed)
            continue
        company_id = company if company is not None else (contact[1] if contact else None)
        out.append({"company_id": company_id, "contact_id": contact[0] if contact else None})
    return out


def _company_key(v: dict) -> tuple[str, str] | None:
    return (v.get("domain", ""), v["company_name"].lower()) if v.get("domain") or v["company_name"] else None


def _companies_of(actor, values: list[dict], created: list) -> dict:
    """Company key -> the matched or new company's id (or the ValidationFailed of its creation)."""
    seen = Company.objects.restrict(actor, "view").order_by("id")
    domains = {v["domain"] for v in values if v.get("domain")}
    names = {v["company_name"] for v in values if v["company_name"]}
    by_domain, by_name = {}, {}
    if domains:
        rows = seen.filter(Q(domain__in=domains) | Q(domains__domain__in=domains))
        for pk, main, other in rows.values_list("id", "domain", "domains__domain"):
            for d in (main, other):
                if d in domains:
                    by_domain.setdefault(d, pk)
    if names:
        lowered = {n.lower() for n in names}
        rows = seen.alias(name_lower=Lower("name")).filter(Q(name_lower__in=lowered) | Q(name__in=names))
        for pk, name in rows.values_list("id", "name"):
            by_name.setdefault(name.lower(), pk)
    found: dict = {}  # customer key -> a company id, or ("new", its index in ``items``)
    items: list[dict] = []
    for v in values:
        key = _company_key(v)
        if key is None or key in found:
            continue
        pk = by_domain.get(v.get("domain")) if v.get("domain") else None
        if pk is None and v["company_name"]:
            pk = by_name.get(v["company_name"].lower())
        if pk is None:
            data = {"name": v["company_name"] or v["domain"]}
            if v.get("domain"):
                data["domain"] = v["domain"]
            pk = ("new", len(items))
            items.append(data)
            by_name.setdefault(data["name"].lower(), pk)  # what the next find_company would see
            if v.get("domain"):
                by_domain.setdefault(v["domain"], pk)
        found[key] = pk
    made = company_create_many(actor=actor, items=items) if items else []
    created += [(c.object_type, c.pk) for c in made if isinstance(c, Company)]
    return {k: _made(pk, made) for k, pk in found.items()}


def _made(pk, made: list):
    if not isinstance(pk, tuple):
        return pk
    record = made[pk[1]]
    return record.pk if isinstance(record, models.Model) else record


def _contacts_of(actor, values: list[dict], companies: dict, created: list) -> dict:
    """Email -> (contact id, its company id), or the ValidationFailed of its creation."""
    emails = {v["email"] for v in values if v.get("email")}
    if not emails:
        return {}
    seen = Contact.objects.restrict(actor, "view").order_by("id")
    rows = seen.filter(Q(email__in=emails) | Q(emails__email__in=emails))
    found: dict = {}
    for pk, company_id, main, other in rows.values_list("id", "company_id", "email", "emails__email"):
        for e in (main, other):
            if e in emails:
                found.setdefault(e, (pk, company_id))
    items, new = [], []
    for v in values:
        email = v.get("email")
        if not email or email in found or email in new:
            continue
        company = companies.get(_company_key(v))
        data = {
            "first_name": v["first_name"],
            "last_name": v["last_name"],
            "email": email,
        }
        if isinstance(company, int):
            data["company_id"] = company
        items.append(data)
        new.append(email)
    made = contact_create_many(actor=actor, items=items) if items else []
    for email, record in zip(new, made, strict=True):
        if isinstance(record, Contact):
            created.append((record.object_type, record.pk))
            found[email] = (record.pk, record.company_id)
        else:
            found[email] = record
    return found
