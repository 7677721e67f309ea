"""Purchase stats follow the exchange rates (crm/orders/stats_jobs.py): an order in a currency with no
rate for its date is counted apart; once the rate is entered (or changed, or deleted) the
"orders.stats_for_rate" job refreshes the customers' stats in the worker."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.automation.jobs import run_due
from crm.automation.models import Job
from crm.money import services as money
from crm.orders.models import PurchaseStats
from crm.orders.services.orders import order_create
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def sek_order(rep_a, acme, ann):
    """20.00 SEK on 2026-03-05 (no SEK rate yet) and 20.00 USD, for Acme and Ann."""
    data = {"company_id": acme.pk, "contact_id": ann.pk, "lines": [line()]}
    order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 2, 1)})
    return order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 3, 5), "currency": "SEK"}).obj


def _stats(**kw):
    s = PurchaseStats.objects.get(**kw)
    return s.order_count, s.total_spent, s.unconverted


def test_a_rate_entered_later_brings_the_order_into_the_stats(
    admin_user, acme, ann, sek_order, django_capture_on_commit_callbacks
):
    assert _stats(company=acme) == (2, Decimal("20.00"), 1)
    with django_capture_on_commit_callbacks(execute=True):
        money.rate_set(actor=admin_user, currency="SEK", date=dt.date(2026, 3, 1), rate="0.10")
    assert _stats(company=acme) == (2, Decimal("20.00"), 1)  # not in the admin's request: the worker's job
    run_due()
    assert _stats(company=acme) == _stats(contact=ann) == (2, Decimal("22.00"), 0)
    year = PurchaseStats.objects.get(company=acme).years[0]
    assert (year["total"], year["unconverted"]) == ("22.00", [])

    with django_capture_on_commit_callbacks(execute=True):
        money.rate_set(actor=admin_user, currency="SEK", date=dt.date(2026, 3, 1), rate="0.20")
    run_due()
    assert _stats(company=acme) == (2, Decimal("24.00"), 0)

    with django_capture_on_commit_callbacks(execute=True):
        money.rate_delete(money.ExchangeRate.objects.get(currency_id="SEK"), actor=admin_user)
    run_due()
    assert _stats(company=acme) == (2, Decimal("20.00"), 1)


def test_a_rate_no_order_needs_enqueues_nothing(admin_user, sek_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        money.rate_set(actor=admin_user, currency="SEK", date=dt.date(2026, 4, 1), rate="0.10")  # after the order
        money.rate_set(actor=admin_user, currency="GBP", date=dt.date(2026, 3, 1), rate="1.30")  # no GBP orders
    assert not Job.objects.filter(kind="orders.stats_for_rate").exists()
