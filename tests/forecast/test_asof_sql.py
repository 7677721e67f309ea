"""The backtest's as-of forecast grouped by the database (crm/forecast/asof_groups.py) gives what the
Python roll-back of every deal (asof.deals_as_of, the reference) gives, on generated history: deals
written through the services at past moments (amounts, stages, close dates, owners and category
overrides changed later, some won or lost), and deals loaded in bulk that closed later with only
their moves recorded (the reopen-from-the-stays path). Every instant sees some of each."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from crm.core import clock
from crm.forecast import backtest, categories, periods, stays
from crm.records.models import Deal, DealStatus, StageChange
from crm.records.services.deals import deal_create, deal_update
from tests.factories import DealFactory

D = dt.date
BEGIN = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _moment(rng) -> dt.datetime:
    return BEGIN + dt.timedelta(days=rng.randint(0, 170), hours=rng.randint(0, 23))


def _close(rng) -> dt.date:
    return D(2026, 3, 1) + dt.timedelta(days=rng.randint(0, 150))


def _ending(stage) -> dict:
    return {"stage_id": stage.pk, **({"lost_reason": "Price"} if stage.is_lost else {})}


@pytest.fixture
def generated(admin_user, rep_a, rep_b, pipeline):
    rng = random.Random(1515)
    stages = list(pipeline.stages.order_by("order"))
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    ends = [s for s in stages if s.is_won or s.is_lost]
    owners = [rep_a, rep_b]
    for n in range(24):  # written through the services: every later change is logged
        times = sorted(_moment(rng) for _ in range(rng.randint(1, 4)))
        with clock.at(times[0]):
            data = {
                "name": f"logged {n}",
                "amount": Decimal(rng.choice([500, 1000, 2500, 4000])),
                "stage_id": rng.choice(open_stages).pk,
                "owner_id": rng.choice(owners).pk,
                "expected_close_date": _close(rng),
            }
            deal = deal_create(actor=admin_user, data=data).obj
        for when in times[1:]:
            change = rng.choice(["amount", "stage", "close", "owner", "category", "end"])
            with clock.at(when):
                deal = Deal.objects.get(pk=deal.pk)
                if deal.status != DealStatus.OPEN:
                    break
                if change == "category":
                    category = rng.choice(["commit", "best_case", "omitted", None])
                    categories.deal_category_set(deal.pk, category, actor=admin_user)
                    continue
                update = {
                    "amount": {"amount": Decimal(rng.choice([700, 3000, 6000]))},
                    "stage": {"stage_id": rng.choice(open_stages).pk},
                    "close": {"expected_close_date": _close(rng)},
                    "owner": {"owner_id": rng.choice(owners).pk},
                    "end": {
                        "stage_id": (end := rng.choice(ends)).pk,
                        **({"lost_reason": "Price"} if end.is_lost else {}),
                    },
                }[change]
                deal_update(deal, actor=admin_user, data=update)
    for _ in range(24):  # loaded in bulk: moves only, a close after some instants
        path = [rng.choice(open_stages) for _ in range(rng.randint(1, 2))]
        end = rng.choice([None, *ends])
        path += [end] if end else []
        times = sorted(_moment(rng) for _ in path)
        last = path[-1]
        status = DealStatus.WON if last.is_won else DealStatus.LOST if last.is_lost else DealStatus.OPEN
        deal = DealFactory(
            owner=rng.choice(owners),
            pipeline=pipeline,
            stage=last,
            status=status,
            amount=Decimal(rng.choice([800, 1200, 5000])),
            expected_close_date=_close(rng),
            probability=last.probability,
            closed_at=times[-1] if status != DealStatus.OPEN else None,
            stage_changed_at=times[-1],
        )
        Deal.objects.filter(pk=deal.pk).update(created_at=times[0] - dt.timedelta(hours=1))
        StageChange.objects.bulk_create(
            StageChange(deal=deal, to_stage=s, changed_at=t) for s, t in zip(path, times, strict=True)
        )
    stays.rebuild()  # moves written in bulk send no signal (crm/forecast/stays.py)


@pytest.mark.parametrize("key", ["FY2026-Q2", "2026-05", "FY2026-Q3"])
def test_sql_groups_equal_the_python_roll_back(generated, admin_user, rep_a, key):
    period = periods.parse(key, 1)
    visible = Deal.objects.restrict(admin_user)
    compared = 0
    for point in backtest.POINTS:
        at = backtest.instant(period, point)
        learnt = ({}, {})  # nothing learnt: history and age fall back to the stage's probability
        for owners in (None, {rep_a.pk}):
            fast = backtest.forecast_as_of(visible, period, at, owners)
            slow = backtest.forecast_as_of(visible, period, at, owners, reference=True)
            assert fast == slow, (point, owners)
            assert backtest.forecast_as_of(visible, period, at, owners, learnt=learnt) == backtest.forecast_as_of(
                visible, period, at, owners, learnt=learnt, reference=True
            )
            compared += fast["stage"] > 0
    assert compared  # the data puts deals in the period: the comparison is not of two zeros


def test_all_instants_in_one_statement_equal_each_alone(generated, admin_user, rep_b):
    """The backtest asks for every (period, instant) at once (asof_groups.groups_at): each answer is the
    reference's for that instant alone, whatever else is asked with it."""
    visible = Deal.objects.restrict(admin_user)
    asks = [
        (period, backtest.instant(period, point))
        for period in (periods.parse(k, 1) for k in ("FY2026-Q1", "FY2026-Q2", "2026-05", "FY2026-Q3"))
        for point in backtest.POINTS
    ]
    learnt = {at: ({}, {}) for _period, at in asks}
    for owners in (None, {rep_b.pk}):
        together = backtest.forecasts_as_of(visible, asks, owners, learnt)
        alone = [backtest.forecast_as_of(visible, p, at, owners, learnt=learnt[at], reference=True) for p, at in asks]
        assert together == alone
    assert any(f["stage"] > 0 for f in together)
