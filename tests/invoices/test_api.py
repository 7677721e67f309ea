"""The invoice API: the declared endpoints with payments, recording a payment, and the accounting
feed (PUT by the sender's ids: idempotent, payments matched by their ids, customer matched or
created, tight 422s)."""

import pytest

from crm.invoices.models import Invoice, Payment
from crm.records.models import Company, Contact
from tests.conftest import Api
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

FEED = "/invoices/external/xero/INV-7"


def put(api, path, body):
    return api._call("put", path, body)


def test_invoices_are_created_paid_and_listed(manager, rep_a, acme):
    api = Api(manager)
    r = api.post(
        "/invoices",
        {
            "company_id": acme.pk,
            "amount": "250.00",
            "currency": "EUR",
            "issue_date": "2026-03-01",
            "due_date": "2026-03-31",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["balance"], body["owner_id"]) == ("open", "250.00", rep_a.pk)
    r = api.post(f"/invoices/{body['id']}/payments", {"amount": "100", "method": "card", "external_id": "ch_1"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["balance"], len(r.json()["payments"])) == ("partially_paid", "150.00", 1)
    # Filters from the declaration: what is still owed
    assert [i["id"] for i in Api(rep_a).get("/invoices", {"balance__gt": "0", "company": acme.pk}).json()["items"]] == [
        body["id"]
    ]
    r = api.post(f"/invoices/{body['id']}/payments", {"amount": "150.01"})
    assert r.status_code == 422 and "payment.amount" in r.json()["error"]["fields"]
    r = api.post(f"/invoices/{body['id']}/payments", {"amount": "-1"})
    assert r.status_code == 422
    assert Api(rep_a).post(f"/invoices/{body['id']}/payments", {"amount": "1"}).status_code == 403
    assert Api(None).get("/invoices").status_code == 401


def test_a_rep_cannot_read_another_teams_invoices(manager, admin_user, rep_b, acme):
    inv = Api(manager).post("/invoices", {"company_id": acme.pk, "amount": "10"}).json()
    assert Api(rep_b).get(f"/invoices/{inv['id']}").status_code == 404
    assert Api(rep_b).get("/invoices").json()["items"] == []
    assert Api(rep_b).post(f"/invoices/{inv['id']}/payments", {"amount": "1"}).status_code == 404


def test_the_feed_creates_then_updates_the_same_invoice(admin_user):
    api = Api(admin_user)
    body = {
        "customer": {"email": "Payer@Example.com", "first_name": "Pat", "company_name": "Payer Ltd"},
        "amount": "300.00",
        "currency": "GBP",
        "issue_date": "2026-02-01",
        "due_date": "2026-03-01",
        "payments": [{"external_id": "pay-1", "amount": "100", "date": "2026-02-10", "method": "bank"}],
    }
    r = put(api, FEED, body)
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["company_id"] == Company.objects.get(name="Payer Ltd").pk
    assert first["contact_id"] == Contact.objects.get(email="payer@example.com").pk
    assert (first["status"], first["balance"], first["number"]) == ("partially_paid", "200.00", first["number"])
    # Sent again with one payment changed and one new: matched by their ids, never doubled
    body["payments"] = [{"external_id": "pay-1", "amount": "150"}, {"external_id": "pay-2", "amount": "150"}]
    r = put(api, FEED, body)
    assert r.status_code == 200 and r.json()["id"] == first["id"]
    assert (r.json()["status"], r.json()["balance"]) == ("paid", "0.00")
    r = put(api, FEED, body)
    assert r.status_code == 200 and len(r.json()["payments"]) == 2
    assert Invoice.objects.count() == 1 and Payment.objects.count() == 2 and Company.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "10"}, "company_id"),  # no customer named
        ({"customer": {"company_name": "X"}, "amount": "-10"}, "amount"),
        ({"customer": {"company_name": "X"}, "amount": "10", "currency": "XYZ"}, "currency"),
        (
            {"customer": {"company_name": "X"}, "amount": "10", "issue_date": "2026-03-02", "due_date": "2026-03-01"},
            "due_date",
        ),
        ({"customer": {"company_name": "X"}, "amount": "10", "payments": [{"amount": "5"}]}, "payments.0.external_id"),
        (
            {"customer": {"company_name": "X"}, "amount": "10", "payments": [{"amount": "11", "external_id": "a"}]},
            "payments",
        ),
        (
            {"customer": {"company_name": "X"}, "amount": "10", "payments": [{"amount": "0", "external_id": "a"}]},
            "payments.0.amount",
        ),
        ({"customer": {"company_name": "X"}, "amount": "10", "status": "paid"}, "status"),
    ],
)
def test_the_feed_refuses_bad_input_and_writes_nothing(admin_user, body, field):
    r = put(Api(admin_user), FEED, body)
    assert r.status_code == 422, r.content
    fields = r.json()["error"]["fields"]
    assert any(f == field or f.startswith(field) for f in fields), fields
    assert not Invoice.objects.exists() and not Company.objects.exists() and not Payment.objects.exists()


def test_the_feed_matches_an_existing_company_by_domain(admin_user, acme):
    CompanyFactory(name="Someone else")
    r = put(Api(admin_user), FEED, {"customer": {"company_domain": "acme-corp.com"}, "amount": "5"})
    assert r.status_code == 201 and r.json()["company_id"] == acme.pk
