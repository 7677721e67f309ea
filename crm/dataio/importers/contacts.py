"""Importing contacts (matched by their first email) and companies (matched by domain)."""

from __future__ import annotations

from crm.core.normalize import InvalidValue, normalize_domain, normalize_email, normalize_phone
from crm.dataio.importers import synonyms as spellings
from crm.dataio.importers.base import Importer, boolean, choice, money, website
from crm.records.models import Company, CompanyDomain, Contact, ContactEmail
from crm.records.models.companies import CompanySize
from crm.records.services.companies import company_create, company_create_many, company_delete, company_update
from crm.records.services.contacts import contact_create, contact_create_many, contact_delete, contact_update

TEXT_FIELDS = ("first_name", "last_name", "title", "street", "city", "region", "postal_code", "country", "source")


class ContactImporter(Importer):
    """Contacts, matched by their first email."""

    model = Contact
    key_name = "email"
    create, update, delete = staticmethod(contact_create), staticmethod(contact_update), staticmethod(contact_delete)
    create_many = staticmethod(contact_create_many)
    key_index = (ContactEmail, "email", "contact_id")
    synonyms = spellings.CONTACT_SYNONYMS

    def key(self, data: dict) -> str | None:
        return data["emails"][0]["email"] if data.get("emails") else None

    text_targets = TEXT_FIELDS
    later_targets = ("full_name",)

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target in ("email", "email_2"):
            kind = "work" if target == "email" else "home"
            data.setdefault("emails", []).append({"email": normalize_email(value), "kind": kind})
        elif target in ("phone", "mobile"):
            kind = "work" if target == "phone" else "mobile"
            data.setdefault("phones", []).append({"number": normalize_phone(value), "kind": kind})
        elif target == "company":
            company_id = self.company(value, warnings)
            if company_id is not None:
                data["company_id"] = company_id
        elif target == "email_opt_in":
            data[target] = boolean(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        self.split_full_name(data, later)
        for key in ("emails", "phones"):
            if data.get(key):
                data[key][0]["primary"] = True

    def for_update(self, contact: Contact, data: dict) -> dict:
        """Emails stay (one of them matched); the file's phone becomes the primary."""
        data = super().for_update(contact, data)
        data.pop("emails", None)
        phones = data.pop("phones", None)
        if phones:
            data["phone"] = phones[0]["number"]
        return data


class CompanyImporter(Importer):
    """Companies, matched by domain (from the domain column, else the website's)."""

    model = Company
    key_name = "domain"
    create, update, delete = staticmethod(company_create), staticmethod(company_update), staticmethod(company_delete)
    create_many = staticmethod(company_create_many)
    key_index = (CompanyDomain, "domain", "company_id")
    synonyms = spellings.COMPANY_SYNONYMS

    def key(self, data: dict) -> str | None:
        return data.get("domain")

    text_targets = ("name", "industry", "street", "city", "region", "postal_code", "country")

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target == "website":
            data[target] = website(value)
        elif target == "domain":
            data[target] = normalize_domain(value)
        elif target == "phone":
            data[target] = normalize_phone(value)
        elif target == "size":
            data[target] = choice(value, CompanySize)
        elif target == "annual_revenue":
            data[target] = money(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        if "domain" not in data and data.get("website"):
            try:
                data["domain"] = normalize_domain(data["website"])
            except InvalidValue:
                pass  # the website is kept as given; the service validates it

    def for_update(self, company: Company, data: dict) -> dict:
        data = super().for_update(company, data)
        data.pop("domain", None)  # it matched: the company has it already
        return data
