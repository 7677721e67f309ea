import datetime as dt
from decimal import Decimal

import pytest

from crm.money.models import ExchangeRate
from tests.factories import CompanyFactory, ContactFactory


@pytest.fixture(autouse=True)
def _rates(foreign_currencies):
    """EUR and GBP enabled, with rates to the organization's currency (USD) from 2026-01-01."""
    for code, rate in (("EUR", "1.10"), ("GBP", "1.25")):
        ExchangeRate.objects.create(currency_id=code, date=dt.date(2026, 1, 1), rate=Decimal(rate))


@pytest.fixture
def acme(rep_a):
    return CompanyFactory(name="Acme", owner=rep_a, domain="acme-corp.com")


@pytest.fixture
def ann(rep_a, acme):
    return ContactFactory(first_name="Ann", last_name="Lee", email="ann@acme-corp.com", company=acme, owner=rep_a)


def invoice_data(company, **kw):
    return {
        "company_id": company.pk,
        "amount": "100.00",
        "issue_date": dt.date(2026, 3, 1),
        "due_date": dt.date(2026, 3, 31),
        **kw,
    }
