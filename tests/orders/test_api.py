"""The order API: the declared endpoints with lines, a won deal's order, and the external feed (PUT by
the sender's ids: idempotent, customer matched or created, lines replaced, tight 422s)."""

import pytest

from crm.orders.models import Order
from crm.records.models import Company, Contact
from tests.conftest import Api
from tests.factories import DealFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


def put(api, path, body):
    return api._call("put", path, body)


def test_orders_are_created_read_listed_and_patched(rep_a, acme):
    api = Api(rep_a)
    r = api.post("/orders", {"company_id": acme.pk, "currency": "EUR", "lines": [line(tax_rate="20")]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["total"] == "24.00" and body["lines"][0]["tax"] == "4.00" and body["owner_id"] == rep_a.pk
    assert api.get(f"/orders/{body['id']}").json()["number"] == body["number"]
    assert [o["id"] for o in api.get("/orders", {"company": acme.pk}).json()["items"]] == [body["id"]]
    r = api.patch(f"/orders/{body['id']}", {"status": "paid", "lines": [line(quantity="3")]})
    assert r.status_code == 200 and r.json()["total"] == "30.00" and r.json()["status"] == "paid"
    assert Api(None).get("/orders").status_code == 401


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"lines": [line(quantity="-2")]}, "lines.0.quantity"),
        ({"lines": [line(discount_percent="150")]}, "lines.0.discount_percent"),
        ({"lines": [line(unit_price=1.555)]}, "lines.0.unit_price"),
        ({"lines": []}, "lines"),
        ({"currency": "XYZ"}, "currency"),
        ({"status": "lost"}, "status"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(rep_a, acme, bad, field):
    r = Api(rep_a).post("/orders", {"company_id": acme.pk, "lines": [line()], **bad})
    assert r.status_code == 422, r.content
    fields = r.json()["error"]["fields"]
    assert any(f == field or f.startswith(field) for f in fields), fields
    assert not Order.objects.exists()


def test_won_deal_order_endpoint(rep_a, rep_b, acme, pipeline):
    won = pipeline.stages.get(is_won=True)
    deal = DealFactory(pipeline=pipeline, stage=won, status="won", owner=rep_a, company=acme, amount="99.00")
    assert Api(rep_b).post(f"/deals/{deal.pk}/order").status_code == 404
    r = Api(rep_a).post(f"/deals/{deal.pk}/order")
    assert r.status_code == 201 and r.json()["total"] == "99.00" and r.json()["deal_id"] == deal.pk
    assert Api(rep_a).post(f"/deals/{deal.pk}/order").status_code == 409


FEED = "/orders/external/shopify/1001"


def test_external_feed_creates_then_updates_the_same_order(admin_user, rep_a):
    api = Api(admin_user)
    body = {
        "customer": {"email": "New.Buyer@Example.COM", "first_name": "New", "company_name": "Buyer Ltd"},
        "currency": "EUR",
        "order_date": "2026-03-01",
        "lines": [line(), line(description="Gift wrap", quantity="1", unit_price="2.50")],
    }
    r = put(api, FEED, body)
    assert r.status_code == 201, r.content
    first = r.json()
    contact = Contact.objects.get(email="new.buyer@example.com")
    assert first["contact_id"] == contact.pk and first["company_id"] == Company.objects.get(name="Buyer Ltd").pk
    assert contact.company_id == first["company_id"] and first["total"] == "22.50"
    r = put(api, FEED, {**body, "status": "fulfilled", "lines": [line(quantity="1")]})
    assert r.status_code == 200 and r.json()["id"] == first["id"]
    assert r.json()["total"] == "10.00" and len(r.json()["lines"]) == 1 and r.json()["status"] == "fulfilled"
    assert Order.objects.count() == 1 and Contact.objects.count() == 1 and Company.objects.count() == 1
    # The same id from another source is another order
    assert put(api, "/orders/external/erp/1001", body).status_code == 201


def test_external_feed_matches_existing_customers_by_email_and_domain(admin_user, acme, ann):
    r = put(
        Api(admin_user),
        FEED,
        {
            "customer": {"email": " ANN@acme-corp.com", "company_domain": "https://www.acme-corp.com/shop"},
            "lines": [line()],
        },
    )
    assert r.status_code == 201, r.content
    assert (r.json()["contact_id"], r.json()["company_id"]) == (ann.pk, acme.pk)
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (FEED, {"lines": [line()]}, 422),  # no customer
        (FEED, {"customer": {"email": "not an email"}, "lines": [line()]}, 422),
        (FEED, {"customer": {"company_name": "X"}, "lines": [line(quantity="-1")]}, 422),
        ("/orders/external/shop%2Fx/1", {"customer": {"company_name": "X"}, "lines": [line()]}, 404),
        ("/orders/external/-bad/1", {"customer": {"company_name": "X"}, "lines": [line()]}, 422),
    ],
)
def test_external_feed_refuses_bad_input(admin_user, path, body, status):
    r = put(Api(admin_user), path, body)
    assert r.status_code == status, r.content
    assert not Order.objects.exists() and not Company.objects.exists()
