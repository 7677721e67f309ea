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


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1440", "390"])
def test_next_week_reschedule_and_complete_in_one_click_each(open_page, rep, viewport):
    """The other one-click moves of issue #20, at both widths: "Next week" (to next Monday), a typed date,
    and completing; each task then sits in its new group and the counts follow, without a reload."""
    now = timezone.now()
    tonight = timezone.localtime(now).replace(hour=23, minute=59)  # due today, not overdue yet
    late, today, done = (
        activities.task_create(actor=rep, data={"title": title, "due_at": due}).obj
        for title, due in (("Send the deck", now - dt.timedelta(days=2)), ("Book the room", tonight), ("Pay", tonight))
    )
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    page.goto("/tasks/mine/")
    expect(page.locator('[data-count="overdue"]')).to_have_text("1")
    expect(page.locator('[data-count="today"]')).to_have_text("2")

    next_week = "Next week: snooze “Send the deck” to next Monday"
    page.locator(f"#task-{late.pk}").get_by_role("button", name=next_week).click()
    expect(page.locator(f"#task-{late.pk}")).not_to_contain_text("overdue")
    expect(page.get_by_role("link", name="Send the deck")).to_be_focused()  # the keyboard user stays with it
    late.refresh_from_db()
    due = timezone.localtime(late.due_at).date()
    assert due.weekday() == 0 and 1 <= (due - timezone.localdate()).days <= 7

    later = timezone.localdate() + dt.timedelta(days=20)
    row = page.locator(f"#task-{today.pk}")
    row.get_by_label("New due date for “Book the room”").fill(later.isoformat())
    with page.expect_response(lambda r: r.url.endswith(f"/{today.pk}/reschedule/")) as answer:
        row.get_by_role("button", name="Reschedule").click()
    assert answer.value.status == 200
    today.refresh_from_db()
    assert timezone.localtime(today.due_at).date() == later

    page.locator(f"#task-{done.pk}").get_by_role("button", name="Complete “Pay”").click()
    expect(page.locator(f"#task-{done.pk}")).to_have_count(0)  # done: it leaves the page
    done.refresh_from_db()
    assert done.completed_at is not None
    shot(page, f"my-tasks-moves-{'390' if viewport else '1440'}")

    # Each task is in its new group and the counts follow at once, and again after a reload.
    for reloaded in (False, True):
        if reloaded:
            page.reload()
        expect(page.locator('[data-count="overdue"]')).to_have_text("0")
        expect(page.locator('[data-count="today"]')).to_have_text("0")
        expect(page.locator('[data-count="upcoming"]')).to_have_text("1")
        expect(page.locator('[data-count="later"]')).to_have_text("1")
        expect(page.locator("section", has=page.locator(f"#task-{late.pk}"))).to_contain_text("Upcoming")
        expect(page.locator("section", has=page.locator(f"#task-{today.pk}"))).to_contain_text("Later")
    assert not page.errors
