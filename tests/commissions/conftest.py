"""Commission fixtures: reps with quotas, plans, won deals placed on chosen days (by hand, as the
forecast tests place them), orders through the order services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.commissions import plans
from crm.forecast.models import Quota
from crm.money.models import ExchangeRate
from crm.records.models import DealStatus
from tests.factories import CompanyFactory, DealFactory

D = dt.date


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def rates(foreign_currencies):
    """1 EUR = 1.10 USD (the organization's currency) from 2026-01-01."""
    ExchangeRate.objects.create(currency_id="EUR", date=D(2026, 1, 1), rate=Decimal("1.10"))


@pytest.fixture
def won(pipeline):
    """won(owner, amount, day, currency="USD") -> a won deal closed at noon that day."""
    stage = pipeline.stages.get(is_won=True)

    def make(owner, amount, day, currency="USD", name=None):
        return DealFactory(
            name=name or f"Deal {amount}",
            owner=owner,
            pipeline=pipeline,
            stage=stage,
            status=DealStatus.WON,
            amount=Decimal(amount),
            currency=currency,
            closed_at=at(day),
            probability=100,
        )

    return make


@pytest.fixture
def plan(admin_user):
    """plan(name, base_rate, tiers=[(threshold, rate)], **fields) through the service."""

    def make(name, base_rate, tiers=(), **fields):
        data = {"name": name, "base_rate": str(base_rate), **fields}
        data["tiers"] = [{"threshold": str(t), "rate": str(r)} for t, r in tiers]
        return plans.plan_create(actor=admin_user, data=data)

    return make


@pytest.fixture
def assign(admin_user):
    def make(rep, plan_, period="2026-05", quota=None):
        a = plans.assignment_create(actor=admin_user, rep_id=rep.pk, plan_id=plan_.pk, period=period)
        if quota is not None:
            Quota.objects.create(
                user=rep, period_kind=a.period_kind, period_start=a.period_start, amount=Decimal(quota)
            )
        return a

    return make


@pytest.fixture
def customer(rep_a):
    return CompanyFactory(name="Acme", owner=rep_a)
