"""Fixtures for page tests: a logged-in browser-like client per user, and a few records."""

import pytest

from crm.records.services import activities, companies, contacts, deals, leads


@pytest.fixture
def acme(rep_a):
    return companies.company_create(actor=rep_a, data={"name": "Acme Corp", "domain": "acme.example"}).obj


@pytest.fixture
def ada(rep_a, acme):
    data = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example", "company_id": acme.pk}
    return contacts.contact_create(actor=rep_a, data=data).obj


@pytest.fixture
def big_deal(rep_a, acme, pipeline):
    data = {"name": "Acme rollout", "amount": "12000", "company_id": acme.pk, "pipeline_id": pipeline.pk}
    return deals.deal_create(actor=rep_a, data=data).obj


@pytest.fixture
def lead_x(rep_a):
    data = {"first_name": "Grace", "last_name": "Hopper", "company_name": "Navy Labs", "email": "grace@navy.example"}
    return leads.lead_create(actor=rep_a, data=data).obj


@pytest.fixture
def call_task(rep_a, ada):
    return activities.task_create(actor=rep_a, data={"title": "Call Ada back", "contact_id": ada.pk}).obj
