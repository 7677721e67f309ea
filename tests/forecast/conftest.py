"""Deals placed in a period by hand: open ones by expected close date, closed ones by close time."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.money.models import ExchangeRate
from crm.records.models import DealStatus, StageChange
from tests.factories import DealFactory

D = dt.date
MID_MAY = D(2026, 5, 15)


@pytest.fixture
def make_deal(pipeline):
    stages = {s.name: s for s in pipeline.stages.all()}

    def make(owner, amount, *, stage="Qualify", close=MID_MAY, currency="USD", prob=None, closed=None):
        s = stages[stage]
        status = DealStatus.WON if s.is_won else DealStatus.LOST if s.is_lost else DealStatus.OPEN
        closed_at = None
        if status != DealStatus.OPEN:
            day = closed or close
            closed_at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        deal = DealFactory(
            owner=owner,
            pipeline=pipeline,
            stage=s,
            status=status,
            amount=Decimal(amount),
            currency=currency,
            expected_close_date=close,
            probability=s.probability if prob is None else prob,
            closed_at=closed_at,
        )
        StageChange.objects.create(deal=deal, to_stage=s, changed_at=deal.stage_changed_at)
        return deal

    make.stages = stages
    return make


@pytest.fixture
def eur_rates(foreign_currencies):
    """1 EUR = 1.10 USD from 2026-04-01, 1.20 USD from 2026-05-10."""
    ExchangeRate.objects.create(currency_id="EUR", date=D(2026, 4, 1), rate=Decimal("1.10"))
    ExchangeRate.objects.create(currency_id="EUR", date=D(2026, 5, 10), rate=Decimal("1.20"))
