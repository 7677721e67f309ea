"""Deals placed in a period by hand: open ones by expected close date, closed ones by close time."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.core import clock
from crm.forecast import categories
from crm.money.models import ExchangeRate
from crm.records.models import Deal, DealStatus, StageChange
from crm.records.services.deals import deal_create, deal_update
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


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture
def story(admin_user, rep_a, rep_b, make_deal):
    stages = make_deal.stages
    deals = {}

    def create(key, day, *, amount, stage, close, owner=rep_a):
        with clock.at(at(day)):
            data = {"name": key, "amount": Decimal(amount), "stage_id": stages[stage].pk, "owner_id": owner.pk}
            deals[key] = deal_create(actor=admin_user, data={**data, "expected_close_date": close}).obj

    def update(key, day, **data):
        with clock.at(at(day)):
            deals[key] = deal_update(Deal.objects.get(pk=deals[key].pk), actor=admin_user, data=data).obj

    def category(key, day, value):
        with clock.at(at(day)):
            categories.deal_category_set(deals[key].pk, value, actor=admin_user)

    # Known at the start: 1000 in Qualify (10 %). Later: amount raised, moved on, then won.
    create("raised", D(2026, 3, 1), amount="1000", stage="Qualify", close=D(2026, 5, 15))
    update("raised", D(2026, 4, 10), amount=Decimal("5000"), stage_id=stages["Proposal"].pk)
    update("raised", D(2026, 5, 20), stage_id=stages["Won"].pk)
    # Expected to close after the period at the start; the close date moved into it later.
    create("moved-in", D(2026, 3, 5), amount="2000", stage="Proposal", close=D(2026, 7, 20))
    update("moved-in", D(2026, 4, 5), expected_close_date=D(2026, 6, 10))
    # Created after the start.
    create("late", D(2026, 4, 15), amount="3000", stage="Proposal", close=D(2026, 6, 1))
    # Commit at the start (50 %); its category changed later, then it was won.
    create("commit", D(2026, 3, 10), amount="4000", stage="Proposal", close=D(2026, 6, 15))
    category("commit", D(2026, 3, 12), "commit")
    category("commit", D(2026, 4, 2), "best_case")
    update("commit", D(2026, 4, 20), stage_id=stages["Won"].pk)
    # rep_a's at the start, reassigned to rep_b later.
    create("reassigned", D(2026, 2, 1), amount="500", stage="Qualify", close=D(2026, 5, 1))
    update("reassigned", D(2026, 4, 3), owner_id=rep_b.pk)
    # Ten deals in Qualify, all lost after the start: leaked, they would make Qualify's conversion 0
    # and its usual stay 33 days (which the 59 days "reassigned" had spent in Qualify would exceed).
    for i in range(10):
        create(f"lost{i}", D(2026, 3, 1), amount="100", stage="Qualify", close=D(2026, 9, 1))
        update(f"lost{i}", D(2026, 4, 3), stage_id=stages["Lost"].pk, lost_reason="Price")
    return deals


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The forecast page keeps backtests in the cache (per scope and day): none from another test."""
    from django.core.cache import cache

    cache.clear()
