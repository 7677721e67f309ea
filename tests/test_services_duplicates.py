"""Possible duplicates are reported on create (same email, phone or domain), among visible records only."""

import pytest

from crm.records.models import Contact
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from crm.records.services.leads import lead_create

pytestmark = pytest.mark.django_db


def hits(saved):
    return {(d["object_type"], d["id"], d["match"]) for d in saved.duplicates}


def test_contact_with_the_same_email_or_phone(rep_a):
    ann = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    bob = contact_create(actor=rep_a, data={"first_name": "Bob", "phone": "202 555 0100"}).obj
    other = contact_create(actor=rep_a, data={"first_name": "Cy", "email": "cy@acme.com", "phone": "202 555 0199"})
    assert other.duplicates == []

    saved = contact_create(
        actor=rep_a, data={"first_name": "Annie", "emails": ["x@y.com", "ANN@acme.com"], "phone": "+1 202-555-0100"}
    )
    assert hits(saved) == {("contact", ann.pk, "email"), ("contact", bob.pk, "phone")}
    entry = next(d for d in saved.duplicates if d["id"] == ann.pk)
    assert entry["name"] == "Ann"


def test_one_entry_per_record_even_when_several_values_match(rep_a):
    ann = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com", "phone": "2025550100"}).obj
    saved = contact_create(actor=rep_a, data={"first_name": "A", "email": "ann@acme.com", "phone": "2025550100"})
    assert [d["id"] for d in saved.duplicates] == [ann.pk]


def test_company_with_the_same_domain_or_phone(rep_a):
    acme = company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com", "acme.io"]}).obj
    globex = company_create(actor=rep_a, data={"name": "Globex", "phone": "202 555 0111"}).obj
    saved = company_create(actor=rep_a, data={"name": "ACME Inc", "domains": ["https://www.acme.io"]})
    assert hits(saved) == {("company", acme.pk, "domain")}
    saved = company_create(actor=rep_a, data={"name": "G", "phone": "(202) 555-0111"})
    assert hits(saved) == {("company", globex.pk, "phone")}
    assert company_create(actor=rep_a, data={"name": "Acme"}).duplicates == []  # a name alone is not a match


def test_lead_matches_leads_and_contacts(rep_a):
    lead = lead_create(actor=rep_a, data={"last_name": "Lee", "email": "ann@acme.com"}).obj
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    phone_lead = lead_create(actor=rep_a, data={"last_name": "Ng", "phone": "202 555 0123"}).obj
    saved = lead_create(actor=rep_a, data={"last_name": "Lee", "email": "Ann@Acme.com", "phone": "2025550123"})
    assert hits(saved) == {
        ("lead", lead.pk, "email"),
        ("contact", contact.pk, "email"),
        ("lead", phone_lead.pk, "phone"),
    }


def test_records_the_actor_cannot_see_are_not_reported(rep_a, rep_b):
    contact_create(actor=rep_b, data={"first_name": "Ann", "email": "ann@acme.com"})
    company_create(actor=rep_b, data={"name": "Acme", "domains": ["acme.com"]})
    lead_create(actor=rep_b, data={"last_name": "Lee", "email": "ann@acme.com"})
    assert contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com"}).duplicates == []
    assert company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com"]}).duplicates == []
    # rep_a's own contact (just made) is the only visible match for a lead.
    own = Contact.objects.get(owner=rep_a)
    saved = lead_create(actor=rep_a, data={"last_name": "Lee", "email": "ann@acme.com"})
    assert hits(saved) == {("contact", own.pk, "email")}


def test_manager_is_told_about_the_teams_records(manager, rep_a, rep_b):
    mine = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    contact_create(actor=rep_b, data={"first_name": "Ann B", "email": "ann@acme.com"})
    saved = contact_create(actor=manager, data={"first_name": "Ann M", "email": "ann@acme.com"})
    assert hits(saved) == {("contact", mine.pk, "email")}
