"""Weekly snapshots: hand-computed figures per scope, one set per week, read as the viewer may."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.automation import jobs
from crm.automation.models import Schedule
from crm.forecast import periods, snapshots
from crm.forecast.models import Snapshot

D = dt.date
Q2 = periods.parse("FY2026-Q2", 1)
MONDAY = dt.datetime(2026, 4, 20, 5, tzinfo=dt.UTC)


@pytest.fixture
def world(make_deal, rep_a, rep_b, manager):
    make_deal(rep_a, "1000", stage="Qualify", close=D(2026, 5, 15))  # 10 %: 100
    make_deal(rep_a, "2000", stage="Proposal", close=D(2026, 5, 20))  # 50 %: 1000
    make_deal(rep_b, "400", stage="Proposal", close=D(2026, 6, 1))  # 50 %: 200


def series(result):
    return {(s["scope"], s["name"]): s["values"] for s in result["series"]}


def test_figures_per_scope_hand_computed(world, admin_user):
    snapshots.take(MONDAY)
    result = snapshots.history(admin_user, Q2, "stage")
    assert result["weeks"] == [D(2026, 4, 20)]
    assert series(result) == {
        ("total", "Total"): [Decimal("1300.00")],
        ("team", "East"): [Decimal("1100.00")],
        ("owner", "rep_a"): [Decimal("1100.00")],
        ("owner", "rep_b"): [Decimal("200.00")],
    }
    assert series(snapshots.history(admin_user, Q2, "pipeline"))[("total", "Total")] == [Decimal("3400.00")]


def test_one_set_per_week_and_the_movement(world, admin_user, make_deal, rep_b):
    first = snapshots.take(MONDAY)
    make_deal(rep_b, "1000", stage="Proposal", close=D(2026, 6, 2))  # +500
    assert snapshots.take(MONDAY + dt.timedelta(days=2)) == first
    assert Snapshot.objects.filter(week=D(2026, 4, 20)).count() == first  # replaced, not added
    snapshots.take(MONDAY + dt.timedelta(days=7))
    result = snapshots.history(admin_user, Q2, "stage")
    assert result["weeks"] == [D(2026, 4, 20), D(2026, 4, 27)]
    assert series(result)[("total", "Total")] == [Decimal("1800.00"), Decimal("1800.00")]
    assert series(result)[("owner", "rep_b")] == [Decimal("700.00"), Decimal("700.00")]


def test_a_week_taken_before_a_change_keeps_its_figure(world, admin_user, make_deal, rep_b):
    snapshots.take(MONDAY)
    make_deal(rep_b, "1000", stage="Proposal", close=D(2026, 6, 2))
    snapshots.take(MONDAY + dt.timedelta(days=7))
    assert series(snapshots.history(admin_user, Q2, "stage"))[("total", "Total")] == [
        Decimal("1300.00"),
        Decimal("1800.00"),
    ]


def test_readers_see_only_their_scopes(world, rep_a, rep_b, manager):
    snapshots.take(MONDAY)
    assert series(snapshots.history(rep_a, Q2, "stage")) == {("owner", "rep_a"): [Decimal("1100.00")]}
    assert series(snapshots.history(rep_b, Q2, "stage")) == {("owner", "rep_b"): [Decimal("200.00")]}
    assert series(snapshots.history(manager, Q2, "stage")) == {
        ("team", "East"): [Decimal("1100.00")],
        ("owner", "rep_a"): [Decimal("1100.00")],
    }


def test_the_job_and_its_schedule(world, admin_user):
    assert snapshots.JOB in jobs.HANDLERS
    snapshots.install_schedule()
    snapshots.install_schedule()
    schedule = Schedule.objects.get(key=snapshots.JOB)
    assert (schedule.job_kind, schedule.cron) == (snapshots.JOB, snapshots.CRON)
    assert snapshots.snapshot_job(None)["rows"] > 0


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


def test_the_scheduler_takes_the_weekly_snapshot(world, admin_user, api, settings, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from crm.automation import scheduler

    settings.TASKS = IMMEDIATE
    assert api(admin_user).get("/forecast", {"period": "FY2026-Q2"}).status_code == 200  # installs the schedule
    Schedule.objects.filter(key=snapshots.JOB).update(next_run_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler.tick()["schedules"] == 1
    week = snapshots.week_of(timezone.localdate())
    assert Snapshot.objects.filter(week=week, scope="total", figure="stage").count() == 3  # month, quarter, year
