"""The database's counts (crm/forecast/history.py) give what the pure Python methods give, on generated
history: many deals, random stage paths and times (moves near midnight, in a time zone not UTC, so the
local-date arithmetic matters), with and without an as-of instant."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.forecast import history, methods, stays
from crm.records.models import Deal, DealStatus, StageChange
from tests.factories import DealFactory, PipelineFactory

TZ = "Europe/Oslo"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def generated(db):
    rng = random.Random(15)
    pipelines = [PipelineFactory(), PipelineFactory()]
    for n in range(160):
        pipeline = pipelines[n % 2]
        stages = list(pipeline.stages.order_by("order"))
        open_stages, won, lost = stages[:2], stages[2], stages[3]
        path = open_stages[: rng.randint(1, 2)]
        if rng.random() < 0.2:
            path = [*path, open_stages[0]]  # moved back
        end = rng.choice([None, won, lost])
        if end:
            path = [*path, end]
        at = START + dt.timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1440))
        times = []
        for _ in path:
            times.append(at)
            at += dt.timedelta(days=rng.choice([0, 1, 3, 7, 12, 30]), minutes=rng.randint(-300, 300))
        last = path[-1]
        status = DealStatus.WON if last.is_won else DealStatus.LOST if last.is_lost else DealStatus.OPEN
        deal = DealFactory(
            pipeline=pipeline,
            stage=last,
            status=status,
            amount=Decimal(1000),
            closed_at=times[-1] if status != DealStatus.OPEN else None,
            stage_changed_at=times[-1],
        )
        StageChange.objects.bulk_create(
            StageChange(deal=deal, to_stage=s, changed_at=t) for s, t in zip(path, times, strict=True)
        )
    stays.rebuild()  # moves written in bulk send no signal (crm/forecast/stays.py)
    return pipelines


def python_reference(as_of=None, min_sample=5):
    """The pure functions over every row read into Python (what the forecast did before)."""
    facts, moves = [], []
    for d in Deal.objects.values("id", "status", "stage_id", "closed_at"):
        if d["status"] != DealStatus.OPEN and (as_of is None or d["closed_at"] <= as_of):
            facts.append(
                methods.DealFact(d["id"], None, 1, d["stage_id"], d["status"], Decimal(1), "USD", None, 0, "", None)
            )
    for c in StageChange.objects.all():
        if as_of is None or c.changed_at <= as_of:
            moves.append(methods.Move(c.deal_id, c.to_stage_id, timezone.localdate(c.changed_at)))
    return (
        methods.win_rates(facts, moves, min_sample=min_sample),
        methods.typical_days(moves, min_sample=min_sample),
    )


@pytest.mark.parametrize("zone", [TZ, "UTC"])  # UTC: SQLite's own date(); other zones: Django's function
@pytest.mark.parametrize("as_of", [None, START + dt.timedelta(days=120, hours=5)])
def test_sql_equals_python_on_generated_history(generated, as_of, zone):
    with timezone.override(zone):
        rates, typical = python_reference(as_of)
        assert rates and typical  # the data is big enough for both methods to learn something
        assert history.win_rates(Deal.objects.all(), as_of=as_of, min_sample=5) == rates
        assert history.typical_days(Deal.objects.all(), as_of=as_of, min_sample=5) == typical


def test_sql_reads_only_the_deals_given(generated):
    first = Deal.objects.filter(pipeline=generated[0])
    stage_ids = set(generated[0].stages.values_list("pk", flat=True))
    assert set(history.win_rates(first, min_sample=1)) <= stage_ids
    assert set(history.typical_days(first, min_sample=1)) <= stage_ids


def test_a_deal_whose_outcome_changed_after_as_of_is_left_out(generated):
    as_of = START + dt.timedelta(days=400)
    closed = Deal.objects.exclude(status=DealStatus.OPEN).first()
    before = history.closed_sample(Deal.objects.all(), as_of).count()
    ObjectChange.objects.create(
        action="update",
        object_type="deal",
        object_id=closed.pk,
        object_repr="x",
        changes={"status": ["open", closed.status]},
        time=as_of + dt.timedelta(days=1),
    )
    assert history.closed_sample(Deal.objects.all(), as_of).count() == before - 1


def test_median_of_a_histogram():
    assert history.median_of({5: 1}) == 5
    assert history.median_of({1: 1, 3: 1}) == 2
    assert history.median_of({1: 1, 2: 1}) == Decimal("1.5")
    assert history.median_of({1: 3, 9: 1}) == 1
    assert history.median_of({1: 2, 9: 2}) == 5


@pytest.mark.parametrize("zone", [TZ, "UTC"])
def test_all_instants_at_once_equal_each_instant_alone(generated, zone):
    instants = [START + dt.timedelta(days=d, hours=h) for d, h in ((30, 0), (90, 7), (120, 5), (200, 0), (400, 0))]
    closed = Deal.objects.exclude(status=DealStatus.OPEN).first()
    ObjectChange.objects.create(  # its outcome was learnt after the third instant: left out there
        action="update",
        object_type="deal",
        object_id=closed.pk,
        object_repr="x",
        changes={"status": ["open", closed.status]},
        time=instants[2] + dt.timedelta(days=1),
    )
    with timezone.override(zone):
        deals = Deal.objects.all()
        rates = history.win_rates_at(deals, instants, min_sample=5)
        typical = history.typical_days_at(deals, instants, min_sample=5)
        for i, at in enumerate(instants):
            assert rates[i] == history.win_rates(deals, as_of=at, min_sample=5)
            assert typical[i] == history.typical_days(deals, as_of=at, min_sample=5)
        assert rates[-1] and typical[-1]
        first = Deal.objects.filter(pipeline=generated[0])
        assert history.typical_days_at(first, instants[-1:], min_sample=1) == [
            history.typical_days(first, as_of=instants[-1], min_sample=1)
        ]


def test_a_viewer_who_may_see_no_deal_gets_empty_counts_not_an_error(generated):
    # Deal.objects.none() compiles to no SQL at all (EmptyResultSet): the semi-join must not be built.
    assert history.stay_histogram(Deal.objects.all())
    assert history.stay_histogram(Deal.objects.none()) == {}
    assert history.stay_histogram(Deal.objects.none(), as_of=START + dt.timedelta(days=90)) == {}
