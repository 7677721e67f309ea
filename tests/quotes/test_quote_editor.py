"""The quote editor's pages and fragments (crm/quotes/web/editor.py) through the Django client; the
browser test is tests/e2e/test_quote_editor.py."""

import pytest

from crm.products.services import products
from crm.quotes.models import Quote
from crm.quotes.services import lifecycle

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def _line(quote):
    return Quote.objects.get(pk=quote.pk).latest().lines.get()


def test_the_editor_shows_lines_totals_and_buttons(web, rep_a, make_quote):
    quote = make_quote()
    html = web(rep_a).get(f"/quotes/{quote.pk}/lines/").content.decode()
    assert 'aria-label="Quantity, line 1"' in html and "€240.00" in html and "€40.00" in html
    assert f"/quotes/{quote.pk}/preview.pdf" in html and "Duplicate" in html and "Revise" not in html
    assert f'id="quote-version" name="version" value="{quote.version}"' in html


def test_search_offers_visible_active_products_with_the_book_price(web, rep_a, admin_user, widget, make_quote):
    quote = make_quote()
    products.product_create(actor=admin_user, data={"sku": "WID-2", "name": "Widget pro"})  # no price
    products.product_create(actor=admin_user, data={"sku": "WID-3", "name": "Widget old", "active": False})
    html = web(rep_a).get(f"/quotes/{quote.pk}/lines/products", {"q": "widg"}).content.decode()
    assert "€10.00" in html and f'"product_id": "{widget.pk}"' in html
    assert "Widget pro" in html and "has no EUR price" in html
    assert "Widget old" not in html


def test_add_a_product_then_change_it_as_typed(web, rep_a, widget, make_quote):
    quote = make_quote()
    client = web(rep_a)
    response = client.post(
        f"/quotes/{quote.pk}/lines/add", {"product_id": widget.pk, "version": quote.version}, headers=HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quantity, line 2" in html and "€250.00" in html  # 240 + the widget at 10.00, no tax
    quote.refresh_from_db()
    line = quote.latest().lines.get(position=2)
    data = {"description": "Widget", "quantity": "3", "unit_price": "10.00", "tax_rate": "0", "version": quote.version}
    response = client.post(f"/quotes/{quote.pk}/lines/{line.pk}", data, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "€270.00" in html and f'value="{quote.version + 1}"' in html
    quote.refresh_from_db()
    assert str(quote.total) == "270.0000"


def test_bad_input_is_refused_in_place_and_nothing_changes(web, rep_a, make_quote):
    quote = make_quote()
    line = _line(quote)
    client = web(rep_a)
    base = {"description": "Consulting", "unit_price": "100", "tax_rate": "20", "version": quote.version}
    response = client.post(f"/quotes/{quote.pk}/lines/{line.pk}", {**base, "quantity": "-2"}, headers=HX)
    assert response.status_code == 422
    assert "Cannot be negative unless the line is a return or credit" in response.content.decode()
    response = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}", {**base, "quantity": "2", "discount_percent": "120"}, headers=HX
    )
    assert response.status_code == 422 and "0 to 100 %" in response.content.decode()
    fresh = Quote.objects.get(pk=quote.pk)
    assert (fresh.version, str(fresh.total)) == (quote.version, "240.0000")
    # a credit line may be negative
    response = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}", {**base, "quantity": "-1", "is_credit": "on"}, headers=HX
    )
    assert response.status_code == 200 and "\u2212€120.00" in response.content.decode()


def test_a_stale_version_is_refused(web, rep_a, make_quote):
    quote = make_quote()
    line = _line(quote)
    data = {"description": "x", "quantity": "5", "unit_price": "1", "version": quote.version - 1 or 99}
    response = web(rep_a).post(f"/quotes/{quote.pk}/lines/{line.pk}", data, headers=HX)
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()


def test_free_text_line_remove_and_terms(web, rep_a, make_quote):
    quote = make_quote()
    client = web(rep_a)
    response = client.post(
        f"/quotes/{quote.pk}/lines/add", {"description": "", "unit_price": "5", "version": quote.version}, headers=HX
    )
    assert response.status_code == 422 and "needs a description" in response.content.decode()
    data = {"description": "Travel", "quantity": "1", "unit_price": "50", "tax_rate": "0", "version": quote.version}
    assert client.post(f"/quotes/{quote.pk}/lines/add", data, headers=HX).status_code == 200
    quote.refresh_from_db()
    assert str(quote.total) == "290.0000"
    travel = quote.latest().lines.get(position=2)
    response = client.post(f"/quotes/{quote.pk}/lines/{travel.pk}/remove", {"version": quote.version}, headers=HX)
    assert response.status_code == 200 and "Travel" not in response.content.decode()
    quote.refresh_from_db()
    terms = {"shipping": "10", "shipping_tax_rate": "0", "order_discount_percent": "", "version": quote.version}
    response = client.post(f"/quotes/{quote.pk}/lines/terms", terms, headers=HX)
    assert response.status_code == 200 and "€250.00" in response.content.decode()
    quote.refresh_from_db()
    response = client.post(
        f"/quotes/{quote.pk}/lines/terms", {"order_discount_percent": "101", "version": quote.version}, headers=HX
    )
    assert response.status_code == 422 and "0 to 100 %" in response.content.decode()


def test_a_sent_quote_is_read_only_with_revise(web, rep_a, make_quote):
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    client = web(rep_a)
    html = client.get(f"/quotes/{quote.pk}/lines/").content.decode()
    assert "is sent: its lines cannot be changed" in html and "Revise" in html
    assert "Quantity, line 1" not in html and "product-search" not in html
    line = _line(quote)
    quote.refresh_from_db()
    data = {"quantity": "9", "version": quote.version}
    response = client.post(f"/quotes/{quote.pk}/lines/{line.pk}", data, headers=HX)
    assert response.status_code == 409 and "revise it instead" in response.content.decode()
    response = client.post(
        f"/quotes/{quote.pk}/revise", {"version": quote.version, "next": f"/quotes/{quote.pk}/lines/"}
    )
    assert response.url == f"/quotes/{quote.pk}/lines/"


def test_preview_pdf_opens_inline(web, rep_a, make_quote):
    quote = make_quote()
    response = web(rep_a).get(f"/quotes/{quote.pk}/preview.pdf")
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline")
    assert response.content[:5] == b"%PDF-"


def test_other_reps_get_404_and_viewers_read_only(web, rep_b, readonly, make_quote):
    quote = make_quote()
    assert web(rep_b).get(f"/quotes/{quote.pk}/lines/").status_code == 404
    assert web(rep_b).post(f"/quotes/{quote.pk}/lines/add", {"description": "x", "unit_price": "1"}).status_code == 404
    html = web(readonly).get(f"/quotes/{quote.pk}/lines/").content.decode()
    assert "You may not change this quote" in html
    assert (
        web(readonly).post(f"/quotes/{quote.pk}/lines/add", {"description": "x", "unit_price": "1"}).status_code == 403
    )


def _queries(client, method, path, data=None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        getattr(client, method)(path, data or {}, headers=HX)
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_lines(web, rep_a, make_quote):
    """A keystroke's save and the editor page cost the same for 3 lines as for 30 (amounts are formatted
    with the currency read once, not once per amount)."""
    client = web(rep_a)
    client.get("/")  # the session's and the policy's first reads are not the editor's
    counts = []
    for n in (3, 30):
        lines = [{"description": f"L{i}", "quantity": "2", "unit_price": "10", "tax_rate": "20"} for i in range(n)]
        quote = make_quote(lines=lines)
        line = quote.latest().lines.get(position=2)
        data = {"description": "L", "quantity": "3", "unit_price": "10", "tax_rate": "20", "version": quote.version}
        counts.append(
            (
                _queries(client, "post", f"/quotes/{quote.pk}/lines/{line.pk}", data),
                _queries(client, "get", f"/quotes/{quote.pk}/lines/"),
                _queries(client, "get", f"/quotes/{quote.pk}/"),
            )
        )
    assert counts[0] == counts[1]
