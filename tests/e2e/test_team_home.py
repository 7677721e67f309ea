"""A manager's home in the browser at 1440 and 390 px: the team's pipeline and overdue tasks by rep, a
click through to that rep's open deals; a rep's home stays their day."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.records.services import activities, deals
from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_a_manager_sees_the_team_on_the_home_page(open_page, sales, viewport):
    from tests.factories import TeamFactory, UserFactory

    team = TeamFactory(name="North")
    boss = UserFactory(username="mona", first_name="Mona", role="sales-manager", role__team=team)
    team.manager = boss
    team.save()
    sam = UserFactory(username="sam", first_name="Sam", last_name="Reed", role="sales-rep", role__team=team)
    outsider = UserFactory(username="oz", first_name="Oz", role="sales-rep")
    today = timezone.localdate()
    deals.deal_create(actor=sam, data={"name": "Sam's big one", "amount": "5000", "expected_close_date": today})
    deals.deal_create(actor=outsider, data={"name": "Not yours", "amount": "7"})
    activities.task_create(actor=sam, data={"title": "Overdue call", "due_at": timezone.now() - dt.timedelta(days=1)})

    page = open_page(boss, viewport)
    page.goto("/")
    team_box = page.locator("[data-team-home]")
    expect(team_box.get_by_role("heading", name="Pipeline by rep")).to_be_visible()
    row = team_box.get_by_role("row", name="Sam Reed")
    expect(row).to_contain_text("$5,000")
    expect(row.get_by_role("link", name="1 overdue task of Sam Reed")).to_be_visible()
    expect(team_box).not_to_contain_text("Oz")
    expect(team_box).to_contain_text("Sam's big one")
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page is {width}px wide"
    shot(page, f"manager-home-{viewport['width']}")
    row.get_by_role("link", name="Sam Reed", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deals")
    expect(page.locator("table.records tbody")).to_contain_text("Sam's big one")
    expect(page.locator("table.records tbody tr")).to_have_count(1)

    rep_page = open_page(sam, viewport)
    rep_page.goto("/")
    expect(rep_page.locator("[data-team-home]")).to_have_count(0)
    expect(rep_page.get_by_role("heading", name="Tasks due today & overdue")).to_be_visible()
    assert not page.errors and not rep_page.errors
