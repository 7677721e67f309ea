"""The customer's acceptance page: no login, a signed link that stops working when tampered with,
expired or revised (404, nothing changes), CSRF on, answers recorded with name, time and address."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.test import Client

from crm.automation.models import Job, Rule
from crm.automation.triggers import TRIGGER_TYPES
from crm.core import events
from crm.quotes import links
from crm.quotes.models import Quote, QuoteStatus
from crm.quotes.services import lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def sent(make_quote, rep_a):
    quote = make_quote(title="Fit-out <script>alert(1)</script>")
    lifecycle.quote_send(quote, actor=rep_a)
    return Quote.objects.get(pk=quote.pk)


def test_the_page_shows_the_quote_escaped_without_login(sent):
    response = Client().get(links.path_for(sent))
    assert response.status_code == 200
    html = response.content.decode()
    assert sent.number in html and "Consulting" in html and "€240.00" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert Client().get(links.path_for(sent) + "pdf")["Content-Type"] == "application/pdf"


def test_accepting_records_name_time_and_address_and_updates_the_deal(sent, deal, django_capture_on_commit_callbacks):
    captured = []
    events.subscribe(captured.append)
    try:
        client = Client(REMOTE_ADDR="198.51.100.7")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(links.path_for(sent), {"action": "accept", "name": "Jane Buyer"})
    finally:
        events.unsubscribe(captured.append)
    assert response.status_code == 200 and "Accepted by Jane Buyer" in response.content.decode()
    sent.refresh_from_db()
    deal.refresh_from_db()
    assert (sent.status, sent.accepted_by_name, sent.answered_ip) == ("accepted", "Jane Buyer", "198.51.100.7")
    assert sent.answered_at is not None and deal.amount == D("240.00")
    assert "quote.accepted" in [e.type for e in captured]
    assert "quote_accepted" in TRIGGER_TYPES


def test_a_rule_on_quote_accepted_is_started(sent, django_capture_on_commit_callbacks):
    rule = Rule.objects.create(
        name="Thank", object_type="quote", trigger_type="quote_accepted", actions=[], enabled=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(links.path_for(sent), {"action": "accept", "name": "Jane"})
    assert [j.payload["rule_id"] for j in Job.objects.filter(kind="rule.run")] == [rule.pk]


def test_declining_needs_a_reason(sent):
    client = Client()
    assert client.post(links.path_for(sent), {"action": "decline", "reason": " "}).status_code == 422
    assert client.post(links.path_for(sent), {"action": "decline", "reason": "Too dear"}).status_code == 200
    sent.refresh_from_db()
    assert (sent.status, sent.decline_reason) == ("rejected", "Too dear")


def test_tampered_expired_and_revised_links_are_404_and_change_nothing(sent, rep_a, make_quote):
    path = links.path_for(sent)
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    other = make_quote()  # a draft: it has no link at all
    assert links.path_for(other) is None
    assert Client().post(tampered, {"action": "accept", "name": "X"}).status_code == 404
    Quote.objects.filter(pk=sent.pk).update(valid_until=dt.date.today() - dt.timedelta(days=1))
    assert Client().post(path, {"action": "accept", "name": "X"}).status_code == 404
    Quote.objects.filter(pk=sent.pk).update(valid_until=dt.date.today() + dt.timedelta(days=1))
    lifecycle.quote_revise(sent, actor=rep_a)
    lifecycle.quote_send(Quote.objects.get(pk=sent.pk), actor=rep_a)
    assert Client().get(path).status_code == 404  # the version-1 link stopped working
    assert Client().post(path, {"action": "accept", "name": "X"}).status_code == 404
    sent.refresh_from_db()
    assert sent.status == QuoteStatus.SENT and sent.accepted_by_name == ""
    assert Client().get(links.path_for(sent)).status_code == 200  # the new link works


def test_csrf_is_required(sent):
    client = Client(enforce_csrf_checks=True)
    assert client.post(links.path_for(sent), {"action": "accept", "name": "X"}).status_code == 403
    page = client.get(links.path_for(sent)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(links.path_for(sent), {"action": "accept", "name": "X", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == "accepted"


def test_answers_are_rate_limited_per_address(sent):
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(10):
        assert client.post(links.path_for(sent), {"action": "decline", "reason": ""}).status_code == 422
    assert client.post(links.path_for(sent), {"action": "accept", "name": "X"}).status_code == 429
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_the_api_shows_the_link_once_sent(api, rep_a, sent):
    body = api(rep_a).get(f"/quotes/{sent.pk}").json()
    assert body["acceptance_path"] == links.path_for(sent)
