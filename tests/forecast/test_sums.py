"""The figures summed by the database in groups of alike deals (crm/forecast/sums.py) equal the pure
per-deal methods (crm/forecast/methods.py) added deal by deal, on generated deals: several owners,
pipelines, currencies with dated rates, probabilities overridden, categories overridden, deals longer
than usual in their stage. And the remembered history (crm/forecast/memo.py) is recomputed as soon as
a deal or a stage move is written."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.forecast import history, memo, methods, periods, selectors, stays, sums
from crm.forecast.models import DealCategory, StageCategory
from crm.money.currencies import quantize
from crm.money.rates import RateTable
from crm.records.models import Deal, DealStatus, StageChange
from crm.records.services.deals import deal_update
from tests.factories import DealFactory, PipelineFactory

D = dt.date
Q2 = periods.parse("FY2026-Q2", 1)
TODAY = D(2026, 5, 20)


@pytest.fixture
def generated(db, rep_a, rep_b, eur_rates):
    rng = random.Random(7)
    pipelines = [PipelineFactory(), PipelineFactory()]
    StageCategory.objects.create(stage=pipelines[0].stages.order_by("order")[1], category="best_case")
    for n in range(150):
        stages = list(pipelines[n % 2].stages.order_by("order"))
        stage = rng.choice(stages)
        status = DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else DealStatus.OPEN
        day = D(2026, 4, 1) + dt.timedelta(days=rng.randint(0, 95))
        entered = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=rng.randint(0, 130))
        deal = DealFactory(
            owner=rng.choice([rep_a, rep_b, None]),
            pipeline=stage.pipeline,
            stage=stage,
            status=status,
            amount=Decimal(rng.randint(1, 900_000)) / 100,
            currency=rng.choice(["USD", "EUR"]),
            expected_close_date=day,
            probability=rng.choice([stage.probability, 15, 85]),
            closed_at=dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC) if status != DealStatus.OPEN else None,
            stage_changed_at=entered,
        )
        moves = [entered - dt.timedelta(days=rng.choice([3, 10, 40])), entered]
        StageChange.objects.bulk_create(
            StageChange(deal=deal, to_stage=s, changed_at=t) for s, t in zip([stages[0], stage], moves, strict=True)
        )
        if status == DealStatus.OPEN and rng.random() < 0.3:
            DealCategory.objects.create(deal=deal, category=rng.choice(["commit", "omitted", "best_case"]))
    stays.rebuild()  # moves written in bulk send no signal (crm/forecast/stays.py)
    return pipelines


def per_deal(visible, rates, typical):
    """The figures as the forecast computed them before: one value per deal, converted, added."""
    mapping = dict(StageCategory.objects.values_list("stage_id", "category"))
    facts = selectors.deal_facts(selectors.in_period(visible, Q2).values(*selectors.FACT_FIELDS), mapping)
    values = dict(methods.by_category(facts))
    values["stage"] = methods.weighted_by_stage(facts)
    values["history"] = methods.weighted_by_history(facts, rates)
    values["age"] = methods.age_adjusted(facts, typical, today=TODAY)
    values["predicted"] = methods.weighted_by_prediction(facts, {})  # no model scored these deals: stage
    rate = {"USD": lambda day: Decimal(1), "EUR": lambda day: Decimal("1.20" if day >= D(2026, 5, 10) else "1.10")}
    out = {}
    for name in sums.FIGURES:
        total = sum((v * rate[f.currency](f.close_date) for f in facts if (v := values[name].get(f.id))), Decimal(0))
        out[name] = quantize(total, "USD")
    return out, len(facts)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Oslo"])
def test_grouped_figures_equal_the_per_deal_ones(generated, admin_user, zone):
    with timezone.override(zone):
        visible = Deal.objects.all()
        rates = history.win_rates(visible, min_sample=3)
        typical = history.typical_days(visible, min_sample=3)
        assert rates and typical
        groups = sums.groups_in_sql(selectors.in_period(visible, Q2), typical, TODAY)
        rollup = sums.rollup_of(groups, rates=rates, typical=typical, today=TODAY)
        expected, count = per_deal(visible, rates, typical)
        got = rollup.figures()
        assert got["count"] == count
        assert {n: got[n] for n in sums.FIGURES} == expected
        assert len(rollup.groups) < count  # alike deals were summed together
        facts = selectors.deal_facts(
            selectors.in_period(visible, Q2).values(*selectors.FACT_FIELDS),
            dict(StageCategory.objects.values_list("stage_id", "category")),
        )
        in_python = sums.Rollup(
            sums.groups_from_rows(facts, typical, TODAY),
            rates=rates,
            typical=typical,
            today=TODAY,
            table=RateTable({"EUR"}),
        )
        assert in_python.figures() == got


def test_the_remembered_history_follows_writes(generated, admin_user):
    visible = Deal.objects.restrict(admin_user)
    first = selectors.forecast(admin_user, Q2, today=TODAY)["total"]
    assert selectors.forecast(admin_user, Q2, today=TODAY)["total"] == first  # remembered: same answer
    deal = Deal.objects.filter(status=DealStatus.OPEN, expected_close_date__gte=Q2.start).first()
    deal_update(deal, actor=admin_user, data={"amount": deal.amount + 1000})
    assert selectors.forecast(admin_user, Q2, today=TODAY)["total"] != first  # its category column moved
    before = memo.fingerprint()
    StageChange.objects.create(deal=deal, to_stage=deal.stage, changed_at=timezone.now())
    assert memo.fingerprint() != before
    learnt = memo.remembered(
        "learnt", visible, None, lambda: (history.win_rates(visible), history.typical_days(visible))
    )
    assert learnt == (history.win_rates(visible), history.typical_days(visible))
