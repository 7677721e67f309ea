"""The quotes API: the standard endpoints from the declaration, lines, send, revise, duplicate,
versions and their PDFs; who sees what (a rep sees the quotes of the deals they see, 404 otherwise)."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_rep(api, rep_a):
    return api(rep_a)


def _create(client, deal, **extra):
    body = {
        "deal_id": deal.pk,
        "lines": [{"description": "Consulting", "quantity": "2", "unit_price": "100", "tax_rate": "20"}],
    }
    response = client.post("/quotes", {**body, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_and_list(as_rep, deal):
    quote = _create(as_rep, deal, title="First")
    assert quote["number"].startswith("Q-") and quote["status"] == "draft" and quote["total"] == "240.0000"
    assert as_rep.get(f"/quotes/{quote['id']}").json()["title"] == "First"
    assert [q["id"] for q in as_rep.get("/quotes", {"status": "draft"}).json()["items"]] == [quote["id"]]
    assert as_rep.get("/quotes", {"deal": deal.pk}).json()["items"][0]["deal_id"] == deal.pk


def test_lines_endpoints(as_rep, deal, widget):
    quote = _create(as_rep, deal)
    path = f"/quotes/{quote['id']}/lines"
    added = as_rep.post(path, {"product_id": widget.pk, "quantity": "10"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["lines"][1]["unit_price"] == "9.0000" and body["total"] == "330.0000"
    line_id = body["lines"][1]["id"]
    changed = as_rep.patch(f"{path}/{line_id}", {"discount_percent": "100", "version": body["version"]})
    assert changed.status_code == 200 and changed.json()["total"] == "240.0000"
    stale = as_rep.patch(f"{path}/{line_id}", {"quantity": "1", "version": body["version"]})
    assert stale.status_code == 409
    removed = as_rep.delete(f"{path}/{line_id}")
    assert removed.status_code == 200 and len(removed.json()["lines"]) == 1


def test_bad_input_is_a_422_naming_the_field(as_rep, deal, widget):
    cases = [
        ({"lines": [{"description": "x", "quantity": "-2", "unit_price": "5"}]}, "lines.0.quantity"),
        (
            {"lines": [{"description": "x", "quantity": "1", "unit_price": "5", "discount_percent": "120"}]},
            "lines.0.discount_percent",
        ),
        ({"currency": "GBP", "lines": [{"product_id": widget.pk}]}, "lines.0.product_id"),
        ({"currency": "XYZ"}, "currency"),
    ]
    for extra, field in cases:
        response = as_rep.post("/quotes", {"deal_id": deal.pk, **extra})
        assert response.status_code == 422, (extra, response.content)
        assert field in response.json()["error"]["fields"], response.json()
    credit = as_rep.post(
        "/quotes",
        {
            "deal_id": deal.pk,
            "lines": [{"description": "Refund", "quantity": "-1", "unit_price": "5", "is_credit": True}],
        },
    )
    assert credit.status_code == 201 and credit.json()["total"] == "-5.0000"
    assert Quote.objects.count() == 1


def test_send_revise_duplicate_versions_and_pdfs(as_rep, deal):
    quote = _create(as_rep, deal)
    base = f"/quotes/{quote['id']}"
    sent = as_rep.post(f"{base}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    refused = as_rep.patch(base, {"title": "Changed"})
    assert refused.status_code == 409 and "revise" in refused.json()["error"]["message"]
    pdf = as_rep.get(f"{base}/versions/1/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert quote["number"] in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    revised = as_rep.post(f"{base}/revise")
    assert revised.json()["current_version"] == 2 and revised.json()["status"] == "draft"
    versions = as_rep.get(f"{base}/versions").json()
    assert [(v["number"], v["has_pdf"], len(v["lines"])) for v in versions] == [(1, True, 1), (2, False, 1)]
    assert as_rep.get(f"{base}/versions/2/pdf").status_code == 200  # a draft's preview
    assert as_rep.get(f"{base}/versions/3/pdf").status_code == 404
    copy = as_rep.post(f"{base}/duplicate")
    assert copy.status_code == 201 and copy.json()["number"] != quote["number"]


def test_accept_and_decline_through_the_api(as_rep, deal):
    quote = _create(as_rep, deal)
    base = f"/quotes/{quote['id']}"
    assert as_rep.post(f"{base}/accept", {"name": "Jane"}).status_code == 409  # not sent yet
    as_rep.post(f"{base}/send")
    accepted = as_rep.post(f"{base}/accept", {"name": "Jane"})
    assert accepted.status_code == 200 and accepted.json()["accepted_by_name"] == "Jane"
    deal.refresh_from_db()
    assert str(deal.amount) == "240.00"


def test_a_rep_sees_quotes_of_deals_they_see_and_gets_404_on_others(api, rep_a, rep_b, manager, deal, readonly):
    quote = _create(api(rep_a), deal)
    base = f"/quotes/{quote['id']}"
    other = api(rep_b)
    for response in (
        other.get(base),
        other.get(f"{base}/lines"),
        other.get(f"{base}/versions"),
        other.get(f"{base}/versions/1/pdf"),
        other.post(f"{base}/send"),
        other.patch(base, {"title": "Mine now"}),
        other.post(f"{base}/duplicate"),
    ):
        assert response.status_code == 404, response.content
    assert other.get("/quotes").json()["items"] == []
    assert other.post("/quotes", {"deal_id": deal.pk}).status_code == 422  # not their deal: no such deal
    # The manager of rep_a's team sees and changes it; a read-only user sees it and may not change it.
    assert api(manager).patch(base, {"title": "Team"}).status_code == 200
    assert api(readonly).get(base).status_code == 200
    assert api(readonly).patch(base, {"title": "No"}).status_code == 403


def test_a_quote_drafted_by_someone_else_on_my_deal_is_mine_to_see(api, rep_a, manager, deal):
    quote = _create(api(manager), deal, owner_id=manager.pk)
    assert api(rep_a).get(f"/quotes/{quote['id']}").status_code == 200


def test_valid_until_in_the_past_cannot_be_sent(as_rep, deal):
    quote = _create(as_rep, deal, valid_until=str(dt.date(2020, 1, 1)))
    response = as_rep.post(f"/quotes/{quote['id']}/send")
    assert response.status_code == 422 and "valid_until" in response.json()["error"]["fields"]
