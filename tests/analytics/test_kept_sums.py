"""The per-day sums (crm/sales/kept.py) stay honest: after writes through every path (services one at a
time, bulk inserts, bulk moves, deletes, a merge, a user's deletion, factories' plain saves) they equal
a from-scratch computation, and the endpoints read from them give what the scan gives, for an admin and
for a team-scoped manager."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.dataio.merge import company_merge
from crm.forecast import categories, periods
from crm.money.models import ExchangeRate
from crm.records.models import Activity, Deal
from crm.records.services import bulk, moves
from crm.records.services.activities import activity_create, activity_delete, activity_update
from crm.records.services.activities_bulk import activity_create_many
from crm.records.services.deals import deal_create, deal_delete, deal_move_stage, deal_update
from crm.sales import analytics, breakdowns, rebuild, summaries
from crm.sales.models import ActivityDay, DealDay
from tests.factories import ActivityFactory, CompanyFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def _periods():
    fy = categories.fiscal_year_start()
    period = periods.containing("quarter", timezone.localdate(), fy)
    return period, periods.shifted(period, -1, fy)


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=3)


@pytest.fixture
def written(pipeline, admin_user, manager, rep_a, rep_b, foreign_currencies):
    """Deals and activities written through every path."""
    stages = {s.name: s for s in pipeline.stages.all()}
    for day in range(0, 200, 7):
        ExchangeRate.objects.create(currency_id="EUR", date=timezone.localdate() - dt.timedelta(days=day), rate="1.1")
    ExchangeRate.objects.create(currency_id="EUR", date=timezone.localdate() + dt.timedelta(days=30), rate="1.2")
    acme, other = CompanyFactory(name="Acme"), CompanyFactory(name="Acme Inc")
    close = timezone.localdate() + dt.timedelta(days=5)
    plan = [(rep_a, {"expected_close_date": close}), (rep_b, {}), (manager, {"currency": "EUR"}), (rep_a, {})] * 3
    made = [
        deal_create(
            actor=admin_user,
            data={"name": f"D{i}", "amount": str(100 * i + 1), "company_id": other.pk, "owner_id": rep.pk, **extra},
        ).obj
        for i, (rep, extra) in enumerate(plan)
    ]
    deal_move_stage(made[0], stages["Won"], actor=rep_a)
    deal_move_stage(made[1], stages["Lost"], actor=rep_b, lost_reason="Price")
    deal_move_stage(made[2], stages["Won"], actor=manager)
    won = deal_move_stage(made[3], stages["Won"], actor=rep_a).obj
    deal_move_stage(won, stages["Qualify"], actor=rep_a)  # reopened
    deal_update(Deal.objects.get(pk=made[4].pk), actor=admin_user, data={"amount": "777.77", "owner_id": rep_b.pk})
    deal_update(
        Deal.objects.get(pk=made[5].pk), actor=admin_user, data={"currency": "EUR", "expected_close_date": close}
    )
    deal_delete(Deal.objects.get(pk=made[6].pk), actor=admin_user)
    DealFactory(owner=rep_b, pipeline=pipeline, amount=Decimal("50"), created_at=_ago(100))  # a plain save
    Deal.objects.filter(pk=made[7].pk).delete()  # a queryset's delete
    company_merge(acme, other, actor=admin_user)  # re-points the deals in bulk (not a counted field)
    moves.move_many(Deal, "owner", rep_b.pk, manager.pk, actor=admin_user, exclude_pk=made[1].pk)

    one = activity_create(actor=rep_a, data={"kind": "call", "occurred_at": _ago(3)}).obj
    two = activity_create(actor=rep_b, data={"kind": "note", "occurred_at": _ago(95)}).obj
    activity_update(one, actor=admin_user, data={"kind": "meeting", "occurred_at": _ago(100), "owner_id": rep_b.pk})
    activity_delete(two, actor=admin_user)
    many = activity_create_many(
        actor=manager, items=[{"kind": k, "occurred_at": _ago(d)} for k, d in [("call", 1), ("email", 40), ("call", 1)]]
    )
    bulk.delete_many(Activity, [many[1].pk], actor=admin_user)
    ActivityFactory(owner=rep_a, occurred_at=_ago(10))
    leaving = UserFactory(username="leaving", role="sales-rep")
    activity_create(actor=leaving, data={"kind": "call", "occurred_at": _ago(2)})
    deal_create(actor=leaving, data={"name": "Orphan", "amount": "10"})
    leaving.delete()  # their deals and activities lose their owner: so do the sums
    return made


def test_the_kept_sums_equal_a_computation_from_scratch(written):
    assert DealDay.objects.exists() and ActivityDay.objects.exists()
    assert rebuild.differences(limit=None) == []


def test_a_rebuild_keeps_the_same_sums_in_one_row_a_key(written):
    deals, activities = rebuild.kept_deal_sums(), rebuild.kept_activity_sums()
    rebuild.rebuild()
    assert (rebuild.kept_deal_sums(), rebuild.kept_activity_sums()) == (deals, activities)
    assert rebuild.differences(limit=None) == []


def test_differences_name_a_wrong_sum(written):
    ActivityDay.objects.create(day=timezone.localdate(), owner_id=None, kind="call", count=5)
    assert [d["table"] for d in rebuild.differences()] == ["activity"]


def test_the_command_checks_the_sums_and_its_rebuild_mends_them(written):
    """`crm sales-sums --check` passes on true sums, fails naming the wrong one, and --rebuild mends it."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("sales-sums", "--check", stdout=StringIO())
    ActivityDay.objects.create(day=timezone.localdate(), owner_id=None, kind="call", count=5)
    out = StringIO()
    with pytest.raises(CommandError, match="1 sums differ"):
        call_command("sales-sums", "--check", stdout=out)
    assert "activity" in out.getvalue()
    call_command("sales-sums", "--rebuild", stdout=StringIO())
    call_command("sales-sums", "--check", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("sales-sums")  # one of --check or --rebuild is required


@pytest.mark.parametrize("who", ["admin_user", "manager", "rep_a"])
def test_the_endpoints_read_from_the_sums_give_what_the_scan_gives(written, who, request, monkeypatch):
    user = request.getfixturevalue(who)
    period, previous = _periods()
    team = {"team_id": request.getfixturevalue("team").pk}

    def answers():
        out = []
        for filters in (analytics.Filters(), analytics.Filters(**team)):
            out.append(analytics.sales(user, period, previous, filters))
            out.append(breakdowns.activity_counts(user, period, previous, filters))
            out.append(breakdowns.revenue_trend(user, period, filters))
        return out

    from_sums = answers()
    assert summaries.deal_sums(user, analytics.Filters()) is not None
    monkeypatch.setattr(summaries, "deal_sums", lambda *a: None)
    monkeypatch.setattr(summaries, "activity_sums", lambda *a: None)
    assert from_sums == answers()
    assert from_sums[0]["current"]["won_count"] >= (2 if who == "admin_user" else 0)
