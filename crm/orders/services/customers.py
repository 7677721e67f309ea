"""The customer of an order that comes from outside: matched by the contact's email (normalized,
crm/core/normalize.py) and the company's domain or name, among the records the sender can see, the
oldest first; created through the record services when nothing matches (never raw writes)."""

from __future__ import annotations

from django.db.models import Q

from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_email
from crm.records.models import Company, Contact
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create


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
