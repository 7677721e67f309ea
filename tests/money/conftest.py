import datetime as dt
from decimal import Decimal

import pytest

from crm.money.models import Currency, ExchangeRate


@pytest.fixture
def eur_gbp(db):
    """EUR and GBP enabled; EUR 1.10 USD from 2026-01-01 and 1.20 from 2026-03-01, GBP 1.25 from 2026-01-01."""
    Currency.objects.filter(code__in=["EUR", "GBP"]).update(enabled=True)
    for code, day, rate in (
        ("EUR", "2026-01-01", "1.10"),
        ("EUR", "2026-03-01", "1.20"),
        ("GBP", "2026-01-01", "1.25"),
    ):
        ExchangeRate.objects.create(currency_id=code, date=dt.date.fromisoformat(day), rate=Decimal(rate))
