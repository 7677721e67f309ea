"""The calendar feed and invitations in a real browser: from the calendar to the feed page, create the
address, read it back as iCalendar without the session; send a meeting's invitation at phone width."""

import datetime as dt

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.mail.models import OutgoingEmail
from crm.records.services import activities
from tests.e2e.conftest import PHONE, shot
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_create_a_feed_and_subscribe_to_it(open_page, rep, browser):
    when = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    activities.activity_create(actor=rep, data={"kind": "meeting", "subject": "Demo, v2", "occurred_at": when})
    page = open_page(rep)
    page.goto("/calendar/")
    page.get_by_role("link", name="Subscribe from your calendar app").click()
    page.get_by_role("button", name="Create feed address").click()
    url = page.get_by_label("Feed address", exact=True).input_value()
    assert "/calendar/feed/cal_" in url and url.endswith(".ics")
    shot(page, "calendar-feed-1440")
    page.reload()  # shown once: a reload shows only the prefix
    expect(page.get_by_label("Feed address", exact=True)).to_have_count(0)
    anonymous = browser.new_context()  # a calendar app: no cookie
    try:
        response = anonymous.request.get(url)
        assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
        [event] = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
        assert str(event["summary"]) == "Demo, v2" and event.decoded("dtstart") == when
    finally:
        anonymous.close()
    page.get_by_role("button", name="Revoke feed").click()
    expect(page.locator(".messages")).to_contain_text("revoked")


def test_send_an_invitation_from_the_calendar_at_phone_width(open_page, rep):
    ann = ContactFactory(email="ann@example.com", owner=rep)
    at = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(10, 0)))
    data = {"kind": "meeting", "subject": "Demo", "occurred_at": at, "participant_ids": [ann.pk]}
    meeting = activities.activity_create(actor=rep, data=data).obj
    page = open_page(rep, PHONE)
    page.goto("/calendar/?view=month")
    item = page.locator(f"#cal-meeting-{meeting.pk}")
    item.get_by_text("Invite").click()
    item.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation queued to ann@example.com")
    assert OutgoingEmail.objects.get().to == ["ann@example.com"]
    assert not page.errors
