"""Which records a message is about: the contacts (primary or other address) and leads whose address
is in From/To/Cc, the companies of those contacts, and the open deals those contacts are on.

Everything is read through the restricted querysets of the mailbox's owner, so a rep's mail links
only records the rep may see. A shared inbox (no owner) belongs to the organization and matches every
record. **Deal rule**: a message links an open deal when one of its matched contacts is a contact of
that deal (not every open deal of a matched company: a company with ten deals would get the message
on all ten); closed deals (won, lost) are left alone, their history is done.
"""

from __future__ import annotations

from django.db.models import Q

from crm.records.models import Company, Contact, Deal, Lead


def _of(model, viewer):
    return model.objects.all() if viewer is None else model.objects.restrict(viewer, "view")


def match(addresses: set[str], viewer) -> tuple[list[dict], bool]:
    """(links, found a person): ``found`` is False when no contact or lead has any of the addresses."""
    if not addresses:
        return [], False
    addresses = sorted(addresses)
    contacts = list(
        _of(Contact, viewer)
        .filter(Q(email__in=addresses) | Q(emails__email__in=addresses))
        .values_list("pk", "company_id")
        .distinct()
    )
    lead_ids = list(_of(Lead, viewer).filter(email__in=addresses).values_list("pk", flat=True))
    contact_ids = sorted({pk for pk, _ in contacts})
    company_ids = {company for _, company in contacts if company}
    companies = sorted(_of(Company, viewer).filter(pk__in=company_ids).values_list("pk", flat=True))
    deals = sorted(
        _of(Deal, viewer).filter(status="open", contacts__in=contact_ids).values_list("pk", flat=True).distinct()
    )
    links = (
        [{"type": "contact", "id": pk} for pk in contact_ids]
        + [{"type": "lead", "id": pk} for pk in sorted(set(lead_ids))]
        + [{"type": "company", "id": pk} for pk in companies]
        + [{"type": "deal", "id": pk} for pk in deals]
    )
    return links, bool(contact_ids or lead_ids)


def match_many(groups: list[set[str]], viewer) -> list[tuple[list[dict], bool]]:
    """``match`` for each set of addresses of a batch, with the same rules and order, in five queries
    for the whole batch instead of five per set."""
    wanted = sorted({a for group in groups for a in group})
    if not wanted:
        return [([], False) for _ in groups]
    by_address: dict[str, set[tuple[int, int | None]]] = {}
    primary = _of(Contact, viewer).filter(email__in=wanted).values_list("email", "pk", "company_id")
    other = _of(Contact, viewer).filter(emails__email__in=wanted).values_list("emails__email", "pk", "company_id")
    for email, pk, company in [*primary, *other]:
        by_address.setdefault(email, set()).add((pk, company))
    leads: dict[str, set[int]] = {}
    for email, pk in _of(Lead, viewer).filter(email__in=wanted).values_list("email", "pk"):
        leads.setdefault(email, set()).add(pk)
    contact_ids = {pk for found in by_address.values() for pk, _ in found}
    company_ids = {company for found in by_address.values() for _, company in found if company}
    companies = set(_of(Company, viewer).filter(pk__in=company_ids).values_list("pk", flat=True))
    deals: dict[int, set[int]] = {}
    rows = _of(Deal, viewer).filter(status="open", contacts__in=contact_ids).values_list("contacts", "pk")
    for contact, deal in rows:
        deals.setdefault(contact, set()).add(deal)
    out = []
    for group in groups:
        found = {pair for a in group for pair in by_address.get(a, ())}
        people = sorted({pk for pk, _ in found})
        lead_ids = sorted({pk for a in group for pk in leads.get(a, ())})
        links = (
            [{"type": "contact", "id": pk} for pk in people]
            + [{"type": "lead", "id": pk} for pk in lead_ids]
            + [{"type": "company", "id": pk} for pk in sorted({c for _, c in found if c in companies})]
            + [{"type": "deal", "id": pk} for pk in sorted({d for pk in people for d in deals.get(pk, ())})]
        )
        out.append((links, bool(people or lead_ids)))
    return out
