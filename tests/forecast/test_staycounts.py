"""The kept usual-stay histogram (crm/forecast/staycounts.py) equals the one counted from the stays
table, after moves, closes, reopens, moves written at an earlier moment, a deletion and a rebuild, and
on generated history; another time zone reads the stays table instead."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.core import clock
from crm.forecast import history, staycounts, stays
from crm.forecast.models import StayCount
from crm.records.models import Deal, StageChange
from crm.records.services.deals import deal_create, deal_delete, deal_move_stage
from tests.forecast.test_history_sql import TZ, generated  # noqa: F401  (the generated history fixture)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC)  # near midnight: local dates matter


def counted() -> dict:
    """The histogram counted from the stays table (a filter that selects every deal bypasses the kept path)."""
    return history.stay_histogram(Deal.objects.filter(pk__gt=0))


def test_the_counts_follow_moves_and_deletions(manager, pipeline):
    stages = list(pipeline.stages.order_by("order"))
    made = []
    for n in range(4):
        with clock.at(T0 + dt.timedelta(days=n)):
            deal = deal_create(actor=manager, data={"name": f"D{n}", "amount": "10", "stage_id": stages[0].pk}).obj
        with clock.at(T0 + dt.timedelta(days=n + 2, hours=1)):
            deal = deal_move_stage(deal, stages[1], actor=manager).obj
        with clock.at(T0 + dt.timedelta(days=3 * n + 5)):
            deal = deal_move_stage(deal, stages[0], actor=manager).obj  # moved back
        made.append(deal)
    StageChange.objects.create(deal=made[0], to_stage=stages[1], changed_at=T0 - dt.timedelta(days=9))  # earlier
    assert staycounts.kept() == counted() != {}
    deal_delete(made[1], actor=manager)
    Deal.objects.filter(pk=made[2].pk).delete()
    assert staycounts.kept() == counted()
    assert staycounts.differences() == []
    assert history.stay_histogram(Deal.objects.all()) == counted()


def test_generated_history_and_another_zone(generated):  # noqa: F811
    assert staycounts.differences() == []
    assert staycounts.kept() == counted()
    assert history.typical_days(Deal.objects.all(), min_sample=5) == history.typical_days(
        Deal.objects.filter(pk__gt=0), min_sample=5
    )
    with timezone.override(TZ):
        assert staycounts.kept() is None  # counted in the organization's zone only
        assert history.stay_histogram(Deal.objects.all()) == counted()


def test_counts_never_built_are_not_read(generated):  # noqa: F811
    StayCount.objects.all().delete()
    assert staycounts.kept() is None
    assert history.stay_histogram(Deal.objects.all()) == counted()
    stays.rebuild()
    assert staycounts.kept() == counted()
