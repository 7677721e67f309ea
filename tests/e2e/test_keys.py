"""Keyboard shortcuts and the calendar in a real browser: "?" opens the shortcuts dialog, "g" + c/o/d/l/t go
to each list, j/k + Enter opens a list row, "n" starts a new record, arrows move a board card, and a
calendar item is dragged to another day and hour; at 1440 px and, for the calendar, at 390 px."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.records.services import activities, companies, deals
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_question_mark_opens_the_shortcuts_and_escape_closes_them(open_page, rep):
    page = open_page(rep)
    page.goto("/companies/")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-goto="c"]')).to_have_attribute("href", "/companies/")
    expect(dialog.locator('[data-shortcut="new"]')).to_have_text("New company")
    # Tab stays inside the dialog (focus trap), whatever the number of presses.
    for _ in range(15):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('shortcuts').contains(document.activeElement)")
    shot(page, "shortcuts-1440")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Typing "?" in a box types it; it opens nothing.
    page.get_by_placeholder("Search companies…").fill("")
    page.get_by_placeholder("Search companies…").press("?")
    expect(dialog).to_be_hidden()
    assert not page.errors


def test_g_then_a_letter_goes_to_each_list_and_n_starts_a_new_one(open_page, rep):
    page = open_page(rep)
    page.goto("/")
    page.keyboard.press("g")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/companies/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Companies")
    # The keys are bound by a deferred script: a key pressed once the heading shows but before it ran is lost.
    page.wait_for_load_state()
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/companies/new/$"))
    page.goto("/")
    for letter, path in (("o", "contacts"), ("d", "deals"), ("l", "leads"), ("t", "tasks")):
        page.keyboard.press("g")
        page.keyboard.press(letter)
        expect(page).to_have_url(re.compile(rf"/{path}/$"))
        page.wait_for_load_state()
    assert not page.errors


def test_j_k_select_rows_and_enter_opens_one(open_page, rep):
    for name in ("Alpha", "Bravo", "Charlie"):
        companies.company_create(actor=rep, data={"name": name})
    page = open_page(rep)
    page.goto("/companies/?sort=name")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    selected = page.locator("table.records tr.kbd-selected")
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("Bravo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bravo")
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(r"/companies/\d+/edit/$"))
    assert not page.errors


def test_arrow_keys_move_the_focused_board_card(open_page, rep, sales):
    deal = deals.deal_create(actor=rep, data={"name": "Keyboard deal", "amount": "1000"}).obj
    page = open_page(rep)
    page.goto("/board/")
    page.locator(f"#deal-{deal.pk} .dealname").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#toast")).to_contain_text("to Proposal")
    expect(page.locator(f'.cards[data-stage-name="Proposal"] #deal-{deal.pk}')).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    # Focus stays on the card, so the next press moves it again.
    expect(page.locator(f"#deal-{deal.pk} .dealname")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#toast")).to_contain_text("to Qualify")
    expect(page.locator(f'.cards[data-stage-name="Qualify"] #deal-{deal.pk}')).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Qualify"
    assert not page.errors


def test_drag_a_task_to_another_day_and_hour_in_the_week(open_page, rep):
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    due = timezone.make_aware(dt.datetime.combine(monday, dt.time(9, 0)))
    task = activities.task_create(actor=rep, data={"title": "Send the deck", "due_at": due}).obj
    page = open_page(rep)
    page.goto(f"/calendar/?view=week&date={monday.isoformat()}")
    item = page.locator(f"#cal-task-{task.pk}")
    expect(page.locator(f'[data-cell="{monday.isoformat()}T09:00"] #cal-task-{task.pk}')).to_be_visible()
    wednesday = (monday + dt.timedelta(days=2)).isoformat()
    target = page.locator(f'[data-cell="{wednesday}T14:00"]')
    item.drag_to(target)
    expect(page.locator("#toast")).to_contain_text("Moved “Send the deck”")
    page.reload()
    expect(page.locator(f'[data-cell="{wednesday}T14:00"] #cal-task-{task.pk}')).to_be_visible()
    task.refresh_from_db()
    assert timezone.localtime(task.due_at) == timezone.make_aware(
        dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(14, 0))
    )
    shot(page, "calendar-week-1440")
    assert not page.errors


def test_calendar_at_phone_width_reschedules_with_the_form(open_page, rep):
    today = timezone.localdate()
    meeting = activities.activity_create(
        actor=rep,
        data={
            "kind": "meeting",
            "subject": "Demo",
            "occurred_at": timezone.make_aware(dt.datetime.combine(today, dt.time(10, 0))),
        },
    ).obj
    page = open_page(rep, PHONE)
    page.goto("/calendar/?view=month")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    item = page.locator(f"#cal-meeting-{meeting.pk}")
    expect(item).to_be_visible()
    shot(page, "calendar-month-390")
    item.get_by_text("Reschedule").click()
    later = today + dt.timedelta(days=1)
    item.get_by_label("Day").fill(later.isoformat())
    item.get_by_role("button", name="Move").click()
    expect(page.locator(".messages")).to_contain_text("Moved “Demo”")
    meeting.refresh_from_db()
    assert timezone.localtime(meeting.occurred_at).date() == later
    assert not page.errors


def test_an_arrow_move_of_a_stale_card_is_refused_and_put_back(open_page, rep, sales):
    deal = deals.deal_create(actor=rep, data={"name": "Stale deal"}).obj
    page = open_page(rep)
    page.goto("/board/")
    deals.deal_update(deal, actor=rep, data={"name": "Stale deal, renamed elsewhere"})
    page.locator(f"#deal-{deal.pk} .dealname").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#toast")).to_contain_text("Reload the board")
    expect(page.locator(f'.cards[data-stage-name="Qualify"] #deal-{deal.pk}')).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Qualify"
