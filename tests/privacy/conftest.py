"""A person spread over the CRM: a contact with two emails and a phone, a note and a task about them,
a later change (in the change log), consent; a lead with their second address; someone else."""

import pytest

from crm.records.services.activities import activity_create, task_create
from crm.records.services.contacts import contact_create, contact_update
from crm.records.services.leads import lead_create

EMAIL = "ann.erase@example.org"
OTHER_EMAIL = "ann.home@example.net"
PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def ann(boss):
    contact = contact_create(
        actor=boss,
        data={
            "first_name": "Ann",
            "last_name": "Erase",
            "emails": [{"email": "Ann.Erase@Example.org", "primary": True}, {"email": OTHER_EMAIL, "kind": "home"}],
            "phones": [{"number": "(415) 555-0123", "kind": "mobile"}],
            "email_opt_in": True,
            "email_opt_in_source": "newsletter form",
        },
    ).obj
    contact = contact_update(contact, actor=boss, data={"title": "Buyer"}).obj
    activity_create(
        actor=boss, data={"kind": "note", "subject": "Called Ann", "links": [{"type": "contact", "id": contact.pk}]}
    )
    task_create(actor=boss, data={"title": "Send Ann the quote", "links": [{"type": "contact", "id": contact.pk}]})
    return contact


@pytest.fixture
def ann_lead(boss, ann):
    return lead_create(actor=boss, data={"first_name": "Ann", "last_name": "E", "email": OTHER_EMAIL}).obj


@pytest.fixture
def bob(boss):
    return contact_create(actor=boss, data={"first_name": "Bob", "email": "bob@example.org"}).obj
