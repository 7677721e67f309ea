"""A small hand-computed story for the sales analytics (month 2026-05 beside 2026-04), rep_a's unless said."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.forecast.models import Quota
from crm.money.models import ExchangeRate
from crm.orders.services.orders import order_create
from crm.products.models import Product
from crm.records.models import DealStatus, Lead, StageChange
from tests.factories import CompanyFactory, DealFactory

D = dt.date


def at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


@pytest.fixture
def make(pipeline):
    """A deal with its stage history: ``moves`` = [(stage name, day), ...], the last one its stage."""
    stages = {s.name: s for s in pipeline.stages.all()}

    def deal(owner, amount, moves, *, currency="USD", close=None, reason=""):
        last = stages[moves[-1][0]]
        status = DealStatus.WON if last.is_won else DealStatus.LOST if last.is_lost else DealStatus.OPEN
        d = DealFactory(
            owner=owner,
            pipeline=pipeline,
            stage=last,
            status=status,
            amount=Decimal(amount),
            currency=currency,
            created_at=at(moves[0][1]),
            stage_changed_at=at(moves[-1][1]),
            expected_close_date=close,
            closed_at=at(moves[-1][1]) if status != DealStatus.OPEN else None,
            lost_reason=reason,
        )
        previous = None
        for name, day in moves:
            StageChange.objects.create(deal=d, from_stage=previous, to_stage=stages[name], changed_at=at(day))
            previous = stages[name]
        return d

    deal.stages = stages
    return deal


@pytest.fixture
def story(make, rep_a, rep_b, foreign_currencies):
    """See test_analytics.py for the figures, computed by hand."""
    ExchangeRate.objects.create(currency_id="EUR", date=D(2026, 4, 1), rate=Decimal("1.10"))
    ExchangeRate.objects.create(currency_id="EUR", date=D(2026, 5, 10), rate=Decimal("1.20"))
    deals = {
        # May
        "w1": make(rep_a, "1000", [("Qualify", D(2026, 4, 1)), ("Proposal", D(2026, 4, 11)), ("Won", D(2026, 5, 11))]),
        "w2": make(rep_a, "100", [("Qualify", D(2026, 5, 1)), ("Won", D(2026, 5, 21))], currency="EUR"),
        "l1": make(rep_a, "500", [("Qualify", D(2026, 5, 2)), ("Lost", D(2026, 5, 12))], reason="Price"),
        "o1": make(rep_a, "2000", [("Qualify", D(2026, 3, 1)), ("Proposal", D(2026, 3, 5))], close=D(2026, 5, 25)),
        "b1": make(rep_b, "9999", [("Qualify", D(2026, 5, 5)), ("Won", D(2026, 5, 15))]),
        # April
        "w3": make(rep_a, "400", [("Qualify", D(2026, 3, 22)), ("Won", D(2026, 4, 11))]),
        "l2": make(rep_a, "300", [("Qualify", D(2026, 4, 1)), ("Lost", D(2026, 4, 5))], reason="Timing"),
    }
    Quota.objects.create(user=rep_a, period_kind="month", period_start=D(2026, 5, 1), amount=Decimal("5000"))
    Lead.objects.create(name="From the web", source="Web", converted_deal=deals["w1"])
    return deals


@pytest.fixture
def lines(story, admin_user, rep_a):
    """w1 (1,000 USD, won 05-11) gets an order of 300 Hardware + 100 Services: 750 and 250 of its amount."""
    box = Product.objects.create(sku="BOX", name="Box", category="Hardware")
    setup = Product.objects.create(sku="SET", name="Set-up", category="Services")
    order_create(
        actor=admin_user,
        data={
            "company_id": CompanyFactory(owner=rep_a).pk,
            "deal_id": story["w1"].pk,
            "order_date": D(2026, 5, 12),
            "lines": [
                {"product_id": box.pk, "quantity": "3", "unit_price": "100"},
                {"product_id": setup.pk, "quantity": "1", "unit_price": "100"},
            ],
        },
    )
    return story
