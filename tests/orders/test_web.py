"""Purchase history on company and contact pages (orders, totals per year converted, first and last
purchase, products bought), the order's own page with its lines, and a won deal's "Make order"."""

import datetime as dt

import pytest

from crm.orders.models import Order
from crm.orders.services.orders import order_create, order_set_status
from crm.products.services.products import product_create
from tests.factories import DealFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(rep_a, admin_user, acme, ann):
    widget = product_create(actor=admin_user, data={"sku": "WID-1", "name": "Widget"}).obj
    data = {"company_id": acme.pk, "contact_id": ann.pk}
    made = [
        order_create(actor=rep_a, data={**data, "order_date": dt.date(2025, 5, 1), "lines": [line()]}).obj,
        order_create(
            actor=rep_a,
            data={
                **data,
                "order_date": dt.date(2026, 2, 1),
                "currency": "EUR",
                "lines": [line(product_id=widget.pk, description="", quantity="3", unit_price="100")],
            },
        ).obj,
        order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 3, 1), "lines": [line()]}).obj,
    ]
    order_set_status(made[2], actor=rep_a, status="cancelled")
    return made


def test_company_page_loads_purchase_history(web, rep_a, acme, orders):
    page = web(rep_a).get(f"/companies/{acme.pk}/").content.decode()
    assert f"/companies/{acme.pk}/purchases/" in page
    card = web(rep_a).get(f"/companies/{acme.pk}/purchases/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in card
    # 2026: 300 EUR × 1.10 = 330 USD (the cancelled order is listed, not counted); 2025: 20 USD
    assert "$350" in card and "$330" in card and "$20" in card
    assert "May 1, 2025" in card and "Feb. 1, 2026" in card  # first and last purchase
    assert "Widget" in card and "WID-1" in card
    assert orders[2].number in card  # listed
    full = web(rep_a).get(f"/companies/{acme.pk}/purchases/").content.decode()
    assert "<html" in full and "Purchase history" in full


def test_contact_page_and_visibility(web, rep_a, rep_b, ann, acme, orders):
    assert "$350" in web(rep_a).get(f"/contacts/{ann.pk}/purchases/").content.decode()
    assert web(rep_b).get(f"/contacts/{ann.pk}/purchases/").status_code == 404
    assert web(rep_b).get(f"/companies/{acme.pk}/purchases/").status_code == 404
    assert web(rep_a).get(f"/deals/{acme.pk}/purchases/").status_code == 404


def test_order_page_shows_its_lines(web, rep_a, orders):
    page = web(rep_a).get(f"/orders/{orders[1].pk}/").content.decode()
    assert "Widget" in page and "€300" in page and "Subtotal" in page
    assert web(rep_a).get("/orders/").status_code == 200


def test_won_deal_make_order_button(web, rep_a, acme, pipeline):
    won = pipeline.stages.get(is_won=True)
    deal = DealFactory(pipeline=pipeline, stage=won, status="won", owner=rep_a, company=acme, amount="75.00")
    page = web(rep_a).get(f"/deals/{deal.pk}/").content.decode()
    assert f"/deals/{deal.pk}/order/" in page
    r = web(rep_a).post(f"/deals/{deal.pk}/order/")
    order = Order.objects.get(deal=deal)
    assert r.status_code == 302 and r["Location"] == f"/orders/{order.pk}/"
    r = web(rep_a).post(f"/deals/{deal.pk}/order/", follow=True)
    assert "No order was made" in r.content.decode() and Order.objects.count() == 1
