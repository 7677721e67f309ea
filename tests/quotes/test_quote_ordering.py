"""An accepted quote becomes an order (crm/quotes/services/ordering.py): its total equals the quote's
in every mix of discounts, taxes, credit lines and shipping; once per accepted version; refusals."""

from decimal import Decimal as D

import pytest

from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.orders.models import Order
from crm.quotes.models import Quote
from crm.quotes.services import acceptance, lifecycle, ordering
from crm.quotes.services.quotes import quote_create
from crm.records.services.companies import company_create
from crm.records.services.deals import deal_create

pytestmark = pytest.mark.django_db

LINES = [
    {"description": "Consulting", "quantity": "3", "unit_price": "99.99", "tax_rate": "20", "discount_percent": "12.5"},
    {"description": "Licence", "quantity": "1.3333", "unit_price": "0.3333", "tax_rate": "8.875"},
    {"description": "Hardware", "quantity": "7", "unit_price": "14.15", "tax_rate": "7", "discount_amount": "3.33"},
    {"description": "Return", "quantity": "-1", "unit_price": "10.01", "tax_rate": "20", "is_credit": True},
]


@pytest.fixture
def customer_deal(rep_a, pipeline):
    acme = company_create(actor=rep_a, data={"name": "Acme"}).obj
    data = {"name": "Acme rollout", "currency": "EUR", "pipeline_id": pipeline.pk, "company_id": acme.pk}
    return deal_create(actor=rep_a, data=data).obj


def accepted(actor, deal, **data) -> Quote:
    quote = quote_create(actor=actor, data={"deal_id": deal.pk, "lines": LINES, **data}).obj
    lifecycle.quote_send(quote, actor=actor)
    acceptance.quote_accept(Quote.objects.get(pk=quote.pk), actor=actor, name="Ann Buyer")
    return Quote.objects.get(pk=quote.pk)


@pytest.mark.parametrize("tax_mode", ["exclusive", "inclusive"])
@pytest.mark.parametrize(
    "terms",
    [
        {},
        {"order_discount_percent": "7.5"},
        {"order_discount_amount": "11.11", "shipping": "25.55", "shipping_tax_rate": "20"},
        {"shipping": "9.99", "shipping_tax_rate": "7"},
    ],
    ids=["plain", "order-percent", "order-amount-shipping", "shipping"],
)
def test_the_order_total_equals_the_quote_total(rep_a, customer_deal, tax_mode, terms):
    quote = accepted(rep_a, customer_deal, tax_mode=tax_mode, **terms)
    version = quote.latest()
    order = ordering.order_from_quote(quote, actor=rep_a).obj
    order = Order.objects.get(pk=order.pk)
    assert order.total == version.total and order.tax_total == version.tax_total
    assert (order.company_id, order.deal_id, order.currency, order.tax_mode) == (
        quote.company_id,
        quote.deal_id,
        "EUR",
        tax_mode,
    )
    lines = list(order.lines.order_by("position"))
    quoted = list(version.lines.order_by("position"))
    for line, source in zip(lines, quoted, strict=False):  # each line: the same amount, tax and total
        assert (line.quantity, line.unit_price, line.tax, line.total) == (
            source.quantity,
            source.unit_price,
            source.tax,
            source.total,
        )
    assert len(lines) == len(quoted) + (1 if terms.get("shipping") else 0)
    if terms.get("shipping"):
        assert lines[-1].description == "Shipping" and lines[-1].unit_price == D(terms["shipping"])
    if not terms:  # no order discount: the discounts are copied as typed
        assert lines[0].discount_percent == D("12.5") and lines[2].discount_amount == D("3.33")
    version.refresh_from_db()
    assert version.order_id == order.pk


def test_once_per_accepted_version(rep_a, customer_deal):
    quote = accepted(rep_a, customer_deal)
    first = ordering.order_from_quote(quote, actor=rep_a).obj
    with pytest.raises(Conflict) as refused:
        ordering.order_from_quote(quote, actor=rep_a)
    assert refused.value.code == "quote_has_order" and first.number in refused.value.message
    assert refused.value.fields == {"order_id": str(first.pk)}
    assert Order.objects.count() == 1
    # A revised, re-sent and accepted quote is a new version: it may have its own order.
    lifecycle.quote_revise(quote, actor=rep_a)
    lifecycle.quote_send(Quote.objects.get(pk=quote.pk), actor=rep_a)
    acceptance.quote_accept(Quote.objects.get(pk=quote.pk), actor=rep_a, name="Ann Buyer")
    second = ordering.order_from_quote(Quote.objects.get(pk=quote.pk), actor=rep_a).obj
    assert second.pk != first.pk and Order.objects.count() == 2


def test_refusals(rep_a, rep_b, readonly, manager, customer_deal):
    draft = quote_create(actor=rep_a, data={"deal_id": customer_deal.pk, "lines": LINES}).obj
    with pytest.raises(ValidationFailed) as refused:
        ordering.order_from_quote(draft, actor=rep_a)
    assert "only an accepted quote becomes an order" in refused.value.fields["status"]
    lifecycle.quote_send(draft, actor=rep_a)
    with pytest.raises(ValidationFailed):
        ordering.order_from_quote(draft, actor=rep_a)  # sent, not accepted
    quote = accepted(rep_a, customer_deal)
    with pytest.raises(NotFound):
        ordering.order_from_quote(quote, actor=rep_b)  # not their deal
    with pytest.raises((NotFound, PermissionDenied)):
        ordering.order_from_quote(quote, actor=readonly)  # may not add orders
    assert Order.objects.count() == 0
    assert ordering.order_from_quote(quote, actor=manager).obj.owner_id == rep_a.pk  # the customer's owner


def test_a_quote_without_customer_is_refused(rep_a, deal):
    quote = accepted(rep_a, deal)  # the quotes' deal fixture has no company and no contact
    with pytest.raises(ValidationFailed) as refused:
        ordering.order_from_quote(quote, actor=rep_a)
    assert "no company or contact" in refused.value.fields["company_id"]
    assert Order.objects.count() == 0


def test_the_api(api, rep_a, readonly, customer_deal):
    quote = accepted(rep_a, customer_deal)
    client = api(rep_a)
    response = client.post(f"/quotes/{quote.pk}/order")
    assert response.status_code == 201, response.content
    body = response.json()
    assert D(body["total"]) == quote.latest().total and body["deal_id"] == customer_deal.pk
    assert len(body["lines"]) == 4 and D(body["lines"][1]["quantity"]) == D("1.3333")
    again = client.post(f"/quotes/{quote.pk}/order")
    assert again.status_code == 409 and again.json()["error"]["fields"]["order_id"] == str(body["id"])
    draft = quote_create(actor=rep_a, data={"deal_id": customer_deal.pk, "lines": LINES}).obj
    refused = client.post(f"/quotes/{draft.pk}/order")
    assert refused.status_code == 422 and "accepted" in refused.json()["error"]["fields"]["status"]
    assert client.post("/quotes/999999/order").status_code == 404
    assert api(readonly).post(f"/quotes/{draft.pk}/order").status_code in (403, 422)


def test_the_page_button(web, rep_a, customer_deal):
    quote = accepted(rep_a, customer_deal)
    client = web(rep_a)
    assert "Make order" in client.get(f"/quotes/{quote.pk}/").content.decode()
    response = client.post(f"/quotes/{quote.pk}/order")
    order = Order.objects.get()
    assert response.url == f"/orders/{order.pk}/"
    page = client.get(response.url).content.decode()
    assert "12.5 %" in page and "−€3.33" in page and "1.3333" in page  # as copied, no exponent or rounding
    html = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert f"Order {order.number}" in html and "Make order" not in html
    response = client.post(f"/quotes/{quote.pk}/order", follow=True)
    assert "already has order" in response.content.decode()
