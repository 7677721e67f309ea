"""The quote's record page (web/facts/quotes.html): lines, totals, versions with their PDFs, the
customer's link, and the send, revise and duplicate buttons."""

import pytest

from crm.quotes import links
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


def test_the_page_shows_lines_totals_and_versions(web, rep_a, make_quote):
    quote = make_quote(title="Fit <b>out</b>")
    html = web(rep_a).get(f"/quotes/{quote.pk}/").content.decode()
    assert quote.number in html and "Consulting" in html and "€240.00" in html
    assert "Fit &lt;b&gt;out&lt;/b&gt;" in html and "Fit <b>out</b>" not in html
    assert f"/api/v1/quotes/{quote.pk}/versions/1/pdf" in html and "Preview PDF" in html


def test_send_revise_and_duplicate_buttons(web, rep_a, make_quote):
    quote = make_quote()
    client = web(rep_a)
    assert client.post(f"/quotes/{quote.pk}/send", {"version": quote.version}).status_code == 302
    quote.refresh_from_db()
    assert quote.status == "sent"
    token = links.path_for(quote).split("/")[2].split(":")[0]  # the signed payload (its timestamp varies)
    assert f"/quote/{token}:" in client.get(f"/quotes/{quote.pk}/").content.decode()
    client.post(f"/quotes/{quote.pk}/revise", {"version": quote.version})
    quote.refresh_from_db()
    assert (quote.status, quote.current_version) == ("draft", 2)
    response = client.post(f"/quotes/{quote.pk}/duplicate")
    copy = Quote.objects.exclude(pk=quote.pk).get()
    assert response.url == f"/quotes/{copy.pk}/"


def test_a_stale_send_is_refused_with_a_message(web, rep_a, make_quote):
    quote = make_quote()
    response = web(rep_a).post(f"/quotes/{quote.pk}/send", {"version": quote.version + 5}, follow=True)
    assert "was not sent" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == "draft"


def test_another_rep_gets_404(web, rep_b, make_quote):
    quote = make_quote()
    client = web(rep_b)
    assert client.get(f"/quotes/{quote.pk}/").status_code == 404
    assert client.post(f"/quotes/{quote.pk}/send").status_code == 404
    assert client.post(f"/quotes/{quote.pk}/duplicate").status_code == 404
