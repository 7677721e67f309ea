"""Declared number bounds hold on every path (service, web form, import, API) and show in the forms;
an impossible date is an error, never an empty value."""

import re

import pytest

from crm.core.errors import ValidationFailed
from crm.customization.services import custom_field_create
from crm.records.models import Company
from crm.records.services import companies, deals, leads

pytestmark = pytest.mark.django_db


def test_the_services_refuse_numbers_outside_their_bounds(rep_a, pipeline):
    with pytest.raises(ValidationFailed) as exc:
        companies.company_create(actor=rep_a, data={"name": "Neg", "annual_revenue": "-5"})
    assert exc.value.fields == {"annual_revenue": "Must be 0 or more."}
    with pytest.raises(ValidationFailed) as exc:
        leads.lead_create(actor=rep_a, data={"last_name": "Doe", "score": 2_000_000})
    assert exc.value.fields == {"score": "Must be between -1000000 and 1000000."}
    deal = deals.deal_create(actor=rep_a, data={"name": "D", "pipeline_id": pipeline.pk}).obj
    with pytest.raises(ValidationFailed) as exc:
        deals.deal_update(deal, actor=rep_a, data={"amount": "-1"})
    assert "amount" in exc.value.fields
    assert not Company.objects.exists()


def test_an_import_refuses_the_row(rep_a):
    ok, bad = companies.company_create_many(
        actor=rep_a, items=[{"name": "Fine", "annual_revenue": "5"}, {"name": "Neg", "annual_revenue": "-5"}]
    )
    assert isinstance(ok, Company)
    assert isinstance(bad, ValidationFailed) and bad.fields == {"annual_revenue": "Must be 0 or more."}


def test_the_api_refuses_a_negative_revenue(api, rep_a):
    r = api(rep_a).post("/companies", {"name": "Neg", "annual_revenue": -5})
    assert r.status_code == 422


def test_the_web_form_refuses_and_renders_the_bounds(web, rep_a):
    client = web(rep_a)
    page = client.get("/companies/new/").content.decode()
    assert '<input type="number" name="annual_revenue" step="0.01" min="0"' in page
    r = client.post("/companies/new/", {"name": "Neg", "annual_revenue": "-5"})
    assert r.status_code == 200 and "greater than or equal to 0" in r.content.decode()
    assert not Company.objects.exists()
    lead_form = client.get("/leads/new/").content.decode()
    assert 'max="1000000"' in lead_form and 'min="-1000000"' in lead_form


def test_the_generic_form_renders_the_declared_bounds(web, admin_user):
    page = web(admin_user).get("/gadgets/new/").content.decode()
    assert '<input type="number" name="price" step="0.01" min="0"' in page


def test_an_impossible_date_is_an_error_on_every_path(web, api, rep_a, pipeline, admin_user):
    r = web(rep_a).post(
        "/deals/new/",
        {"name": "D", "stage": pipeline.stages.first().pk, "currency": "USD", "expected_close_date": "2026-02-31"},
    )
    assert r.status_code == 200 and "Enter a valid date." in r.content.decode()
    r = api(rep_a).post("/deals", {"name": "D", "pipeline_id": pipeline.pk, "expected_close_date": "2026-02-31"})
    assert r.status_code == 422
    custom_field_create(
        actor=admin_user, data={"object_type": "company", "key": "founded", "label": "Founded", "field_type": "date"}
    )
    with pytest.raises(ValidationFailed) as exc:
        companies.company_create(actor=rep_a, data={"name": "X", "custom_fields": {"founded": "2026-02-31"}})
    assert "founded" in str(exc.value.fields)


# A number a user sets whose sign depends on another field: the service's rule across fields says when.
SIGNED_BY_A_RULE = {
    ("invoice", "amount"): "a credit note's amount is negative, an invoice's is not (crm/invoices)",
}


def _numbers_a_user_sets():
    """(record type, field) of every declared number a user types: not an id, a reference or a read-only one."""
    from django.core.exceptions import FieldDoesNotExist

    from crm.core import recordtypes

    for rt in recordtypes.declared_types():
        for f in rt.fields:
            if f.kind not in ("int", "decimal") or f.read_only or f.link:
                continue
            try:
                model_field = rt.model._meta.get_field(f.name)
            except FieldDoesNotExist:
                continue  # a value kept elsewhere (a deal's contacts), not a number column
            if not model_field.is_relation:
                yield rt, f


def test_every_number_a_user_sets_declares_its_bounds():
    """Walked from the registry, so a new number field cannot arrive without bounds: the services
    (crm/core/bounds.py) and the forms (min/max attributes) both read them."""
    unbounded = [
        f"{rt.object_type}.{f.name}"
        for rt, f in _numbers_a_user_sets()
        if f.min_value is None and f.max_value is None and (rt.object_type, f.name) not in SIGNED_BY_A_RULE
    ]
    assert not unbounded, f"declare min_value/max_value on {unbounded}"


def test_every_form_renders_the_declared_bounds_of_its_numbers(web, admin_user, pipeline):
    """Client side: each type's new-record page gives the number inputs their declared min/max."""
    client = web(admin_user)
    checked = set()
    for rt, f in _numbers_a_user_sets():
        if f.min_value is None and f.max_value is None:
            continue
        r = client.get(f"/{rt.slug}/new/")
        if r.status_code == 404:
            continue  # no web form for this type
        assert r.status_code == 200, (rt.slug, r.status_code)
        tag = re.search(rf'<input type="number" name="{f.name}"[^>]*>', r.content.decode())
        assert tag, f"{rt.slug}/new/ has no number input {f.name}"
        for attr, bound in (("min", f.min_value), ("max", f.max_value)):
            if bound is not None:
                assert f'{attr}="{bound}"' in tag.group(0), (rt.slug, f.name, tag.group(0))
        checked.add(f"{rt.object_type}.{f.name}")
    assert {"company.annual_revenue", "lead.score", "deal.amount", "deal.probability", "product.cost"} <= checked
