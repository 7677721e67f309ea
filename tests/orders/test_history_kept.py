"""The purchase-history card reads the customer's kept breakdowns (crm/orders/stats.py): the same
figures as summing the orders on every request, and the card of a customer with many orders reads no
order rows for its sums."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.orders.history import history
from crm.orders.models import PurchaseStats
from crm.orders.services.orders import order_create, order_set_status
from crm.products.services.products import product_create
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
        order_create(  # no SEK rate: kept apart, never converted at 1.0
            actor=rep_a, data={**data, "order_date": dt.date(2026, 4, 1), "currency": "SEK", "lines": [line()]}
        ).obj,
        order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 3, 1), "lines": [line()]}).obj,
    ]
    order_set_status(made[3], actor=rep_a, status="cancelled")
    return made, widget


@pytest.mark.parametrize("key", ["acme", "ann"])
def test_kept_figures_equal_the_summed_ones(request, rep_a, orders, key):
    record = request.getfixturevalue(key)
    kept = history(rep_a, record)
    PurchaseStats.objects.update(years=None, products=None)  # as a row from before the breakdowns
    summed = history(rep_a, record)
    assert kept == summed
    assert kept["summary"]["order_count"] == 3 and kept["summary"]["unconverted"] == 1
    assert [y["year"] for y in kept["years"]] == [2026, 2025]
    assert [(p["product__sku"], p["quantity"], p["orders"]) for p in kept["products"]] == [("WID-1", 3, 1)]


def test_the_card_reads_no_order_sums(rep_a, acme, orders):
    with CaptureQueriesContext(connection) as ctx:
        history(rep_a, acme)
    sums = [q["sql"] for q in ctx.captured_queries if "SUM(" in q["sql"].upper()]
    assert sums == []


def test_a_renamed_product_shows_its_new_name(rep_a, admin_user, acme, orders):
    from crm.products.services.products import product_update

    product_update(orders[1], actor=admin_user, data={"name": "Widget II"})
    assert history(rep_a, acme)["products"][0]["product__name"] == "Widget II"
