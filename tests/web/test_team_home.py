"""A manager's home shows the team (pipeline by rep, overdue tasks by rep, deals closing this month), read
through the restricted querysets; a rep still sees their day (crm/web/team_home.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.records.services import activities, deals
from crm.web import team_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(manager, rep_a, rep_b, pipeline, foreign_currencies):
    today = timezone.localdate()
    for name, amount, currency in (("A1", "1000.50", "USD"), ("A2", "2000", "USD"), ("A3", "300", "EUR")):
        data = {"name": name, "amount": amount, "currency": currency, "pipeline_id": pipeline.pk}
        deals.deal_create(actor=rep_a, data=data | {"expected_close_date": today})
    deals.deal_create(actor=rep_b, data={"name": "B1", "amount": "999999", "pipeline_id": pipeline.pk})
    late = timezone.now() - dt.timedelta(days=2)
    activities.task_create(actor=rep_a, data={"title": "Late A", "due_at": late})
    activities.task_create(actor=rep_a, data={"title": "Later A", "due_at": timezone.now() + dt.timedelta(days=3)})
    activities.task_create(actor=rep_b, data={"title": "Late B", "due_at": late})


def test_a_manager_sees_the_team_and_only_the_team(manager, rep_a, world):
    summary = team_home.team_summary(manager)
    assert [r.user for r in summary["reps"]] == [rep_a]  # rep_b is on no team of the manager
    row = summary["reps"][0]
    assert row.open_deals == 3
    assert row.totals == {"USD": Decimal("3000.50"), "EUR": Decimal("300")}
    assert all(isinstance(v, Decimal) for v in row.totals.values())
    assert row.overdue == 1
    assert {d.name for d in summary["closing"]} == {"A1", "A2", "A3"} and summary["closing_count"] == 3


def test_an_admin_sees_every_rep(admin_user, rep_a, rep_b, world):
    reps = {r.user: r for r in team_home.team_summary(admin_user)["reps"]}
    assert set(reps) == {rep_a, rep_b}
    assert reps[rep_b].totals == {"USD": Decimal("999999")} and reps[rep_b].overdue == 1


def test_the_manager_home_page_shows_the_team_and_a_rep_keeps_their_day(web, manager, rep_a, world):
    html = web(manager).get("/").content.decode()
    assert "Pipeline by rep" in html and "Team deals closing this month (3)" in html
    assert "rep_a" in html and "rep_b" not in html and "999,999" not in html
    assert "$3,000.50" in html and "€300" in html
    assert "My day" in html  # their own tasks and deals stay below
    rep_html = web(rep_a).get("/").content.decode()
    assert "data-team-home" not in rep_html and "Tasks due today" in rep_html
    assert not team_home.sees_a_team(rep_a) and team_home.sees_a_team(manager)


def test_a_role_that_hides_amounts_gets_counts_only(web, manager, rep_a, world):
    from crm.access.models import Role

    role = manager.profile.role
    Role.objects.filter(pk=role.pk).update(field_access={"deal": {"amount": "hidden"}})
    from crm.access.policy import forget

    forget(manager)
    summary = team_home.team_summary(manager)
    assert summary["amounts"] is False and summary["reps"][0].totals == {}
    html = web(manager).get("/").content.decode()
    assert "Open pipeline" not in html and "3,000" not in html
