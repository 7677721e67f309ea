"""Sending (the PDF stored and readable), revising, duplicating, answering, and the expiry job."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from crm.automation import jobs
from crm.automation.models import Schedule
from crm.core.errors import Conflict, ValidationFailed
from crm.money.models import ExchangeRate
from crm.money.rates import MissingRate
from crm.quotes.models import Quote, QuoteSettings, QuoteStatus
from crm.quotes.services import acceptance, documents, lifecycle, lines

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_send_freezes_the_version_and_stores_its_pdf(make_quote, rep_a, widget):
    quote = make_quote(
        title="Office fit-out",
        lines=[
            {"product_id": widget.pk, "quantity": "3", "tax_rate": "20"},
            {"description": "Installation <b>day</b>", "quantity": "1", "unit_price": "450.00", "tax_rate": "20"},
        ],
    )
    lifecycle.quote_send(quote, actor=rep_a)
    quote.refresh_from_db()
    version = quote.latest()
    assert quote.status == QuoteStatus.SENT and version.sent_at is not None
    path = documents.stored_path(version)
    assert path is not None and path.parent.name == "quotes"
    text = text_of(path.read_bytes())
    assert quote.number in text
    assert "Widget" in text and "Installation <b>day</b>" in text  # escaped, shown as typed
    assert "€576.00" in text  # 30.00 + 450.00 + 20 % tax
    assert quote.total == D("576.00")


def test_a_quote_needs_lines_and_a_future_valid_until_to_be_sent(make_quote, rep_a):
    with pytest.raises(ValidationFailed) as caught:
        lifecycle.quote_send(make_quote(lines=[]), actor=rep_a)
    assert "lines" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        lifecycle.quote_send(make_quote(valid_until=dt.date(2020, 1, 1)), actor=rep_a)
    assert "valid_until" in caught.value.fields


def test_revise_makes_a_new_draft_version_and_old_ones_stay_readable(make_quote, rep_a):
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    first_pdf = documents.stored_path(Quote.objects.get(pk=quote.pk).latest()).read_bytes()
    with pytest.raises(Conflict):
        lifecycle.quote_revise(make_quote(), actor=rep_a)  # a draft is edited, not revised
    lifecycle.quote_revise(quote, actor=rep_a)
    quote.refresh_from_db()
    assert (quote.status, quote.current_version) == (QuoteStatus.DRAFT, 2)
    line = quote.latest().lines.get()
    lines.line_update(quote, line.pk, actor=rep_a, data={"quantity": "3"})
    quote.refresh_from_db()
    v1, v2 = quote.versions.order_by("number")
    assert v1.total == D("240.00") and v2.total == D("360.00")
    assert v1.lines.get().quantity == 2 and v1.sent_at is not None and v2.sent_at is None
    assert documents.stored_path(v1).read_bytes() == first_pdf
    lifecycle.quote_send(quote, actor=rep_a)
    second = text_of(documents.pdf_bytes(quote, quote.versions.get(number=2)))
    assert "Version 2" in second and "€360.00" in second


def test_duplicate_is_a_new_draft_with_its_own_number(make_quote, rep_a):
    quote = make_quote(title="Original")
    lifecycle.quote_send(quote, actor=rep_a)
    copy = lifecycle.quote_duplicate(quote, actor=rep_a).obj
    assert copy.number != quote.number and copy.status == QuoteStatus.DRAFT and copy.title == "Original"
    assert copy.total == D("240.00") and copy.latest().lines.count() == 1 and copy.deal_id == quote.deal_id


def test_accept_records_the_answer_and_updates_the_deal(make_quote, rep_a, deal):
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    acceptance.quote_accept(quote, actor=rep_a, name=" Jane Buyer ", ip="203.0.113.9")
    quote.refresh_from_db()
    deal.refresh_from_db()
    assert (quote.status, quote.accepted_by_name, quote.answered_ip) == (
        QuoteStatus.ACCEPTED,
        "Jane Buyer",
        "203.0.113.9",
    )
    assert quote.answered_at is not None
    assert deal.amount == D("240.00") and deal.status == "open"  # the pipeline does not win deals on acceptance
    with pytest.raises(Conflict):
        acceptance.quote_accept(quote, actor=rep_a, name="Again")


def test_accept_converts_to_the_deal_currency_and_can_win_the_deal(make_quote, rep_a, deal, admin_user):
    ExchangeRate.objects.create(currency_id="EUR", date=dt.date(2020, 1, 1), rate=D("1.10"))
    acceptance.pipeline_settings_set(deal.pipeline, actor=admin_user, win_deal_on_accept=True)
    deal.currency = "USD"
    deal.save()
    quote = make_quote(currency="EUR")
    lifecycle.quote_send(quote, actor=rep_a)
    acceptance.quote_accept(quote, actor=rep_a, name="Jane")
    deal.refresh_from_db()
    assert deal.amount == D("264.00") and deal.status == "won" and deal.stage.is_won
    assert QuoteSettings.objects.get(pipeline=deal.pipeline).win_deal_on_accept


def test_accept_without_a_rate_changes_nothing(make_quote, rep_a, deal):
    deal.currency = "USD"
    deal.save()
    quote = make_quote(currency="GBP")
    lifecycle.quote_send(quote, actor=rep_a)
    with pytest.raises(MissingRate, match="GBP"):
        acceptance.quote_accept(quote, actor=rep_a, name="Jane")
    quote.refresh_from_db()
    deal.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and deal.amount is None


def test_decline_needs_a_reason(make_quote, rep_a):
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    with pytest.raises(ValidationFailed):
        acceptance.quote_decline(quote, actor=rep_a, reason="  ")
    acceptance.quote_decline(quote, actor=rep_a, reason="Too expensive")
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.REJECTED, "Too expensive")


def test_the_daily_job_expires_sent_quotes_past_valid_until(make_quote, rep_a):
    today = dt.date.today()
    due = make_quote(valid_until=today)
    later = make_quote(valid_until=today + dt.timedelta(days=3))
    draft = make_quote(valid_until=today - dt.timedelta(days=3))
    for quote in (due, later):
        lifecycle.quote_send(quote, actor=rep_a)
    assert Schedule.objects.get(key=lifecycle.EXPIRE_JOB).cron == lifecycle.EXPIRE_CRON
    assert lifecycle.EXPIRE_JOB in jobs.HANDLERS
    assert lifecycle.expire_due(today + dt.timedelta(days=1)) == 1
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", later.pk: "sent", draft.pk: "draft"}
    with pytest.raises(Conflict):  # an expired quote is not accepted: it is revised
        acceptance.quote_accept(Quote.objects.get(pk=due.pk), actor=rep_a, name="Late")
