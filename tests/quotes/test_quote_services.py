"""Quote services: totals stored as totals.py computes them, prices from the price book, drafts only
edited, numbering, bad input with field paths."""

import datetime as dt
from decimal import Decimal as D

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, ValidationFailed
from crm.money.currencies import minor_units
from crm.quotes.models import Quote, QuoteLine
from crm.quotes.services import lifecycle, lines, quotes
from crm.quotes.services.values import to_input
from crm.quotes.totals import compute_totals

pytestmark = pytest.mark.django_db


def test_create_stores_the_totals_totals_py_computes(make_quote, widget, deal):
    quote = make_quote(
        lines=[
            {"product_id": widget.pk, "quantity": "12", "discount_percent": "10", "tax_rate": "19"},
            {"description": "Setup", "quantity": "1", "unit_price": "99.99", "tax_rate": "7"},
            {"description": "Returned widget", "quantity": "-1", "unit_price": "10.00", "is_credit": True},
        ],
        order_discount_amount="5.00",
        shipping="12.50",
        shipping_tax_rate="19",
    )
    version = quote.latest()
    stored = list(version.lines.order_by("position"))
    assert stored[0].unit_price == D("9.00")  # the tier from 10 units, from the standard book
    assert stored[0].description == "Widget"
    expected = compute_totals(
        [to_input(x) for x in stored],
        minor_units=minor_units("EUR"),
        order_discount_amount=D("5.00"),
        shipping=D("12.50"),
        shipping_tax_rate=D("19"),
    )
    assert (version.subtotal, version.discount_total, version.tax_total, version.total) == (
        expected.subtotal,
        expected.discount_total,
        expected.tax_total,
        expected.total,
    )
    assert [(x.net, x.tax, x.total) for x in stored] == [(a.net, a.tax, a.total) for a in expected.lines]
    assert quote.total == expected.total
    assert quote.company_id == deal.company_id and quote.currency == "EUR"
    assert quote.valid_until == quote.created_at.date() + dt.timedelta(days=30)


def test_numbers_come_from_the_yearly_sequence_and_are_never_reused(make_quote, rep_a, settings):
    year = dt.date.today().year
    first = make_quote()
    second = make_quote()
    assert (first.number, second.number) == (f"Q-{year}-0001", f"Q-{year}-0002")
    quotes.quote_delete(second, actor=rep_a)
    assert make_quote().number == f"Q-{year}-0003"
    settings.QUOTE_NUMBER_FORMAT = "OFF{year}/{n:06d}"
    assert make_quote().number == f"OFF{year}/000004"


def test_a_product_without_a_price_in_the_currency_is_a_clear_error(make_quote, widget):
    with pytest.raises(ValidationFailed) as caught:
        make_quote(currency="GBP", lines=[{"product_id": widget.pk, "quantity": 1}])
    message = caught.value.fields["lines.0.product_id"]
    assert "GBP" in message and "Widget" in message
    assert not Quote.objects.exists()


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "5"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "-5"}, "lines.0.unit_price"),
        (
            {"description": "x", "quantity": "1", "unit_price": "5", "discount_percent": "100.5"},
            "lines.0.discount_percent",
        ),
        ({"description": "x", "quantity": "1", "unit_price": "5", "discount_amount": "6"}, "lines.0.discount_amount"),
        ({"quantity": "1", "unit_price": "5"}, "lines.0.description"),
        ({"description": "x", "quantity": "1"}, "lines.0.unit_price"),
        ({"description": "x", "quantity": "abc", "unit_price": "5"}, "lines.0.quantity"),
    ],
)
def test_bad_lines_are_refused_with_their_path_and_nothing_is_written(make_quote, line, path):
    with pytest.raises(ValidationFailed) as caught:
        make_quote(lines=[line])
    assert path in caught.value.fields
    assert not Quote.objects.exists() and not QuoteLine.objects.exists()


def test_unknown_or_disabled_currency_is_refused(make_quote):
    for code in ("XXX", "JPY"):  # JPY exists but is not enabled
        with pytest.raises(ValidationFailed) as caught:
            make_quote(currency=code)
        assert "currency" in caught.value.fields


def test_order_discount_over_100_percent_is_refused(make_quote):
    with pytest.raises(ValidationFailed) as caught:
        make_quote(order_discount_percent="101")
    assert "order_discount_percent" in caught.value.fields


def test_lines_add_update_remove_recompute_and_log(make_quote, rep_a, widget):
    quote = make_quote()
    assert quote.total == D("240.00")
    line = lines.line_add(quote, actor=rep_a, data={"product_id": widget.pk, "quantity": "1"})
    quote.refresh_from_db()
    assert line.unit_price == D("10.00") and quote.total == D("250.00")
    lines.line_update(quote, line.pk, actor=rep_a, data={"quantity": "10"})  # the 10-unit tier is not re-read:
    quote.refresh_from_db()  # the line keeps its price unless the product changes
    assert quote.total == D("340.00")
    lines.line_update(quote, line.pk, actor=rep_a, data={"discount_percent": "50"})
    quote.refresh_from_db()
    assert quote.total == D("290.00")
    lines.line_remove(quote, line.pk, actor=rep_a)
    quote.refresh_from_db()
    assert quote.total == D("240.00") and quote.version == 5
    logged = ObjectChange.objects.filter(object_type="quote", object_id=quote.pk).count()
    assert logged == 5  # the create and four line changes


def test_a_sent_or_accepted_quote_is_not_edited_but_revised(make_quote, rep_a):
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    quote.refresh_from_db()
    for write in (
        lambda: quotes.quote_update(quote, actor=rep_a, data={"title": "New"}),
        lambda: lines.line_add(quote, actor=rep_a, data={"description": "x", "quantity": 1, "unit_price": 1}),
    ):
        with pytest.raises(Conflict, match="revise it instead"):
            write()


def test_update_draft_replaces_lines_and_version_fields(make_quote, rep_a):
    quote = make_quote()
    quotes.quote_update(
        quote,
        actor=rep_a,
        data={
            "title": "Offer",
            "tax_mode": "inclusive",
            "lines": [{"description": "A", "quantity": 1, "unit_price": "119.00", "tax_rate": "19"}],
        },
    )
    quote.refresh_from_db()
    version = quote.latest()
    assert quote.title == "Offer" and version.tax_mode == "inclusive"
    assert (version.total, version.tax_total) == (D("119.00"), D("19.00"))
