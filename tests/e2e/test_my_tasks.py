"""The "My tasks" page in a real browser at phone width: snooze a task to tomorrow in one click."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.records.services import activities
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_snooze_a_task_to_tomorrow(open_page, rep):
    task = activities.task_create(
        actor=rep, data={"title": "Call Ada back", "due_at": timezone.now() - dt.timedelta(hours=3)}
    ).obj
    page = open_page(rep, PHONE)
    page.goto("/tasks/mine/")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("overdue")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    shot(page, "my-tasks-390")
    row.get_by_role("button", name="Snooze → tomorrow: “Call Ada back”").click()
    expect(page.locator(f"#task-{task.pk}")).not_to_contain_text("overdue")
    task.refresh_from_db()
    assert timezone.localtime(task.due_at).date() == timezone.localdate() + dt.timedelta(days=1)
    assert timezone.localtime(task.due_at).hour == 9
    page.reload()
    expect(page.locator("section", has=page.locator(f"#task-{task.pk}"))).to_contain_text("Upcoming")
