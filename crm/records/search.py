"""What global search finds for each record type: names, emails, phones, domains."""

from crm.core.normalize import phone_search_tokens
from crm.records.models import Company, Contact, Deal, Lead
from crm.search.registry import register


def _phones(numbers) -> list[str]:
    return [token for n in numbers if n for token in phone_search_tokens(n)]


def _company(c: Company) -> list[str]:
    return [c.name, *(d.domain for d in c.domains.all()), *_phones([c.phone])]


def _contact(c: Contact) -> list[str]:
    return [c.name, c.title, *(e.email for e in c.emails.all()), *_phones(p.number for p in c.phones.all())]


def _lead(lead: Lead) -> list[str]:
    return [lead.name, lead.company_name, lead.email, *_phones([lead.phone])]


def _deal(d: Deal) -> list[str]:
    return [d.name]


register(Company, code=1, text=_company, prefetch=("domains",))
register(Contact, code=2, text=_contact, prefetch=("emails", "phones"))
register(Lead, code=3, text=_lead)
register(Deal, code=4, text=_deal)
