"""The memo's fingerprint (crm/forecast/memo.py) follows every kind of write to what the forecast learns
from: after each, the next remembered read computes afresh. The counters are raised by database
triggers (crm/forecast/generation.py), so paths that bypass the services count too."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.forecast import generation, memo
from crm.forecast.models import DealCategory, StageCategory
from crm.money.models import ExchangeRate
from crm.predict.models import DealScore
from crm.records.models import Deal, Stage, StageChange
from crm.records.services import moves
from crm.records.services.deals import deal_delete, deal_move_stage, deal_update
from tests.factories import CompanyFactory, DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(pipeline, admin_user):
    return DealFactory(pipeline=pipeline, stage=pipeline.stages.first(), owner=admin_user, amount=Decimal(100))


def _recomputed_after(write) -> bool:
    """Whether a remembered answer is computed again after ``write()`` (and not before it)."""
    runs = []

    def compute():
        runs.append(1)
        return len(runs)

    visible, name = Deal.objects.all(), f"test-writes-{uuid.uuid4()}"
    memo.remembered(name, visible, None, compute)
    memo.remembered(name, visible, None, compute)
    assert len(runs) == 1, "remembered while nothing was written"
    write()
    memo.remembered(name, visible, None, compute)
    return len(runs) == 2


def test_every_trigger_is_installed():
    expected = len(generation.TABLES) * 3
    assert generation.installed() == expected


def test_a_service_write(deal, admin_user):
    assert _recomputed_after(lambda: deal_update(deal, actor=admin_user, data={"amount": "150"}))


def test_a_stage_move(deal, admin_user, pipeline):
    assert _recomputed_after(lambda: deal_move_stage(deal, pipeline.stages.all()[1], actor=admin_user))


def test_a_bulk_move_of_a_merge(deal, admin_user):
    old, new = CompanyFactory(), CompanyFactory()
    Deal.objects.filter(pk=deal.pk).update(company=old)
    assert _recomputed_after(lambda: moves.move_many(Deal, "company", old.pk, new.pk, actor=admin_user))


def test_a_queryset_update_without_the_version(deal):
    assert _recomputed_after(lambda: Deal.objects.filter(pk=deal.pk).update(amount=Decimal(7)))


def test_raw_sql(deal):
    def write():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_deal SET amount = 9 WHERE id = %s", [deal.pk])

    assert _recomputed_after(write)


def test_moves_loaded_in_bulk(deal):
    rows = [StageChange(deal=deal, to_stage=deal.stage, changed_at=timezone.now()) for _ in range(3)]
    assert _recomputed_after(lambda: StageChange.objects.bulk_create(rows))


def test_a_deletion(deal, admin_user):
    assert _recomputed_after(lambda: deal_delete(deal, actor=admin_user))


def test_a_queryset_deletion(deal):
    assert _recomputed_after(lambda: Deal.objects.filter(pk=deal.pk).delete())


def test_a_creation(pipeline, admin_user):
    assert _recomputed_after(lambda: DealFactory(pipeline=pipeline, stage=pipeline.stages.first(), owner=admin_user))


def test_a_stage_edited_in_place(pipeline):
    stage = pipeline.stages.first()
    assert _recomputed_after(lambda: Stage.objects.filter(pk=stage.pk).update(probability=33))


def test_categories_rates_and_scores(deal, foreign_currencies):
    assert _recomputed_after(lambda: DealCategory.objects.create(deal=deal, category="commit"))
    assert _recomputed_after(lambda: StageCategory.objects.create(stage=deal.stage, category="best_case"))
    assert _recomputed_after(
        lambda: ExchangeRate.objects.create(currency_id="EUR", date=timezone.localdate(), rate=Decimal("1.1"))
    )
    assert _recomputed_after(lambda: ExchangeRate.objects.update(rate=Decimal("1.2")))  # in place: seen now
    assert _recomputed_after(lambda: DealScore.objects.create(deal=deal, probability=0.5, scored_at=timezone.now()))


def test_nothing_written_nothing_recomputed(deal):
    assert not _recomputed_after(lambda: Deal.objects.filter(pk=deal.pk).exists())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as every transactional test here
def test_committed_writes_raise_the_counters(pipeline, admin_user):
    """Outside a test's wrapping transaction: on PostgreSQL the counter is raised at commit (the
    deferred trigger), once per transaction however many rows it wrote."""
    before = generation.current()
    with transaction.atomic():
        for _ in range(3):
            DealFactory(pipeline=pipeline, stage=pipeline.stages.first(), owner=admin_user)
        inside = generation.current()
    after = generation.current()
    assert after != before
    assert inside != before  # a transaction sees its own writes (PostgreSQL: its mark)
    if connection.vendor == "postgresql":
        assert sum(map(int, after[1].split(","))) == sum(map(int, (before[1] or "0").split(","))) + 1
