"""The company page's credit card: balance owed and overdue invoices (count, amount, oldest days
overdue) in the organization's currency at today's rates (named), a missing rate named with its
currency and date (never 1.0), open invoices linked; the same few queries for many invoices."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.models import Role
from crm.invoices.credit import credit
from crm.invoices.services.invoices import invoice_create
from crm.invoices.services.payments import record_payment
from crm.money.models import Currency
from tests.invoices.conftest import invoice_data

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def invoices(manager, acme):
    late = invoice_create(
        actor=manager, data=invoice_data(acme, amount="200", currency="EUR", issue_date=days(-60), due_date=days(-30))
    ).obj
    record_payment(late, actor=manager, data={"amount": "100"})  # 100 EUR overdue, 30 days
    invoice_create(actor=manager, data=invoice_data(acme, amount="50", issue_date=days(-20), due_date=days(-5)))
    invoice_create(actor=manager, data=invoice_data(acme, amount="70", issue_date=days(-1), due_date=days(29)))
    paid = invoice_create(
        actor=manager, data=invoice_data(acme, amount="10", issue_date=days(-90), due_date=days(-80))
    ).obj
    record_payment(paid, actor=manager, data={"amount": "10"})  # paid: not owed, not overdue
    invoice_create(
        actor=manager, data=invoice_data(acme, amount="999", status="draft", issue_date=days(-90), due_date=days(-80))
    )
    return late


def test_the_card_sums_converts_and_names_the_rate(web, rep_a, acme, invoices):
    page = web(rep_a).get(f"/companies/{acme.pk}/").content.decode()
    assert f"/companies/{acme.pk}/credit/" in page
    card = web(rep_a).get(f"/companies/{acme.pk}/credit/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in card
    # Owed: 100 EUR × 1.10 + 50 + 70 = 230 USD; overdue: 110 + 50 = 160 USD, two invoices, oldest 30 days
    assert "$230" in card and "3 open invoices" in card
    assert "$160" in card and "2 invoices, oldest 30 days overdue" in card
    assert "1 EUR = 1.1 USD (rate of Jan. 1, 2026)" in card
    assert invoices.number in card and "30 days overdue" in card
    full = web(rep_a).get(f"/companies/{acme.pk}/credit/").content.decode()
    assert "<html" in full and "Balance owed" in full


def test_a_missing_rate_is_named_never_one(web, manager, rep_a, acme):
    Currency.objects.filter(code="NOK").update(enabled=True)  # enabled, no rate at all
    invoice_create(
        actor=manager, data=invoice_data(acme, amount="500", currency="NOK", issue_date=days(-3), due_date=days(-1))
    )
    invoice_create(actor=manager, data=invoice_data(acme, amount="5", issue_date=days(-3), due_date=days(3)))
    card = web(rep_a).get(f"/companies/{acme.pk}/credit/", headers={"HX-Request": "true"}).content.decode()
    assert f"No exchange rate for NOK on or before {TODAY.isoformat()}" in card
    assert "$5 of $5" in card and "$505" not in card and "500" in card  # shown in NOK, not added at 1.0


def test_visibility(web, rep_a, rep_b, support, marketer, acme, invoices):
    assert web(rep_b).get(f"/companies/{acme.pk}/credit/").status_code == 404  # another team's customer
    assert web(marketer).get(f"/companies/{acme.pk}/credit/").status_code == 404  # no invoice grant
    assert f"/companies/{acme.pk}/credit/" not in web(marketer).get(f"/companies/{acme.pk}/").content.decode()
    assert "$230" in web(support).get(f"/companies/{acme.pk}/credit/").content.decode()


def test_many_invoices_cost_the_same_queries(manager, rep_a, acme):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            credit(rep_a, acme)
        return len(ctx)

    invoice_create(actor=manager, data=invoice_data(acme, issue_date=days(-40), due_date=days(-10)))
    few = queries()
    for i in range(30):
        currency = "EUR" if i % 2 else "USD"
        invoice_create(
            actor=manager, data=invoice_data(acme, currency=currency, issue_date=days(-40), due_date=days(i - 15))
        )
    assert queries() == few
    summary = credit(rep_a, acme)
    assert summary["open_count"] == 31 and summary["overdue_count"] == 16


def test_the_invoice_page_shows_its_payments_and_days_overdue(web, rep_a, invoices):
    page = web(rep_a).get(f"/invoices/{invoices.pk}/").content.decode()
    assert "Payments" in page and "€100" in page and "30 days overdue" in page
    assert web(rep_a).get("/invoices/").status_code == 200


def test_a_manager_records_a_payment_on_the_invoice_page(web, manager, rep_a, invoices):
    page = web(manager).get(f"/invoices/{invoices.pk}/").content.decode()
    assert f"/invoices/{invoices.pk}/payments/" in page
    assert f"/invoices/{invoices.pk}/payments/" not in web(rep_a).get(f"/invoices/{invoices.pk}/").content.decode()
    r = web(manager).post(f"/invoices/{invoices.pk}/payments/", {"amount": "150", "method": "bank"}, follow=True)
    assert "No payment was recorded" in r.content.decode() and "exceed" in r.content.decode()
    r = web(manager).post(f"/invoices/{invoices.pk}/payments/", {"amount": "100", "date": "2026-03-05"}, follow=True)
    assert "recorded" in r.content.decode()
    invoices.refresh_from_db()
    assert (invoices.status, invoices.balance) == ("paid", 0)
    assert web(rep_a).post(f"/invoices/{invoices.pk}/payments/", {"amount": "1"}).status_code == 403


def test_a_role_that_hides_balances_sees_no_sums(web, rep_a, acme, invoices):
    Role.objects.filter(slug="sales-rep").update(field_access={"invoice": {"balance": "hidden"}})
    card = web(rep_a).get(f"/companies/{acme.pk}/credit/", headers={"HX-Request": "true"}).content.decode()
    assert "hidden from your role" in card and "$230" not in card and "$160" not in card
