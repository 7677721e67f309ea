"""The per-user calendar feed (/calendar/feed/<token>.ics): made and revoked on its settings page, the
token shown once and stored hashed, the feed parsed back with icalendar: the user's meetings and open
tasks in UTC with stable UIDs, nothing of another user's, and every bad token a 404."""

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.utils import timezone

from crm.access.models import Role, hash_token
from crm.audit.models import ObjectChange
from crm.records.services import activities
from crm.web import feeds
from crm.web.models import CalendarFeed

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def meeting(actor, subject, at, **data):
    data = {"kind": "meeting", "subject": subject, "occurred_at": at, **data}
    return activities.activity_create(actor=actor, data=data).obj


def task(actor, title, due, **data):
    return activities.task_create(actor=actor, data={"title": title, "due_at": due, **data}).obj


def new_feed_url(client) -> str:
    response = client.post("/calendar/feed/new/", follow=True)  # made, then shown on the page redirected to
    assert response.status_code == 200 and response.redirect_chain[-1][0] == "/calendar/feed/"
    found = re.search(r'value="(http://testserver/calendar/feed/cal_[^"]+\.ics)"', response.content.decode())
    assert found, "the new address is shown"
    return found.group(1).removeprefix("http://testserver")


def events(client, path) -> dict[str, icalendar.Event]:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(response.content)
    return {str(e["summary"]): e for e in parsed.walk("VEVENT")}


def test_the_feed_lists_my_meetings_and_open_tasks_in_utc(web, rep_a):
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    at_ny = dt.datetime.combine(soon.date(), dt.time(9, 30), tzinfo=NEW_YORK)
    m = meeting(rep_a, "Kickoff, phase 1; with \\ Ada", at_ny, body="Agenda:\nline two", duration_minutes=45)
    t = task(rep_a, "Send quote", soon)
    task(rep_a, "Already done", soon, status="done")
    meeting(rep_a, "Long ago", timezone.now() - dt.timedelta(days=feeds.WINDOW_PAST + 5))
    path = new_feed_url(web(rep_a))
    got = events(web(None), path)  # no session: the token is the credential
    assert set(got) == {"Kickoff, phase 1; with \\ Ada", "Task: Send quote"}
    ev = got["Kickoff, phase 1; with \\ Ada"]
    assert str(ev["uid"]).startswith(f"activity-{m.pk}@")
    assert ev.decoded("dtstart") == at_ny.astimezone(dt.UTC) and ev.decoded("dtstart").tzinfo is not None
    assert ev["dtstart"].to_ical().endswith(b"Z")  # written in UTC
    assert ev.decoded("dtend") - ev.decoded("dtstart") == dt.timedelta(minutes=45)
    assert str(ev["description"]) == "Agenda:\nline two"
    assert "dtstamp" in ev
    assert str(got["Task: Send quote"]["uid"]).startswith(f"task-{t.pk}@")
    # The same record keeps its UID from one fetch to the next (a client updates it, no duplicate).
    again = events(web(None), path)
    assert str(again["Task: Send quote"]["uid"]) == str(got["Task: Send quote"]["uid"])


def test_another_users_private_records_are_absent(web, rep_a, rep_b, admin_user):
    soon = timezone.now() + dt.timedelta(days=1)
    meeting(rep_a, "Mine", soon)
    meeting(rep_b, "Theirs", soon)
    task(rep_b, "Their task", soon)
    meeting(admin_user, "Admin private", soon)
    got = events(web(None), new_feed_url(web(rep_a)))
    assert set(got) == {"Mine"}


def test_token_is_stored_hashed_and_replacing_or_revoking_makes_the_old_url_404(web, rep_a):
    client = web(rep_a)
    first = new_feed_url(client)
    raw = first.removeprefix("/calendar/feed/").removesuffix(".ics")
    stored = CalendarFeed.objects.get(user=rep_a)
    assert stored.key_hash == hash_token(raw) and raw not in stored.key_hash
    assert raw not in client.get("/calendar/feed/").content.decode()  # shown once
    assert ObjectChange.objects.filter(object_type="calendar_feed").exists()
    second = new_feed_url(client)
    assert web(None).get(first).status_code == 404
    assert web(None).get(second).status_code == 200
    assert client.post("/calendar/feed/revoke/").status_code == 302
    assert web(None).get(second).status_code == 404
    assert not CalendarFeed.objects.filter(user=rep_a).exists()


@pytest.mark.parametrize(
    "token",
    ["cal_" + "A" * 43, "nope", "cal_" + "A" * 500, "cal_%00%27%3Cscript%3E", "..%2F..%2Fetc", "cal_" + "é" * 43],
)
def test_wrong_or_malformed_tokens_are_404(web, rep_a, token):
    new_feed_url(web(rep_a))
    assert web(None).get(f"/calendar/feed/{token}.ics").status_code == 404


def test_an_inactive_users_feed_is_404(web, rep_a):
    path = new_feed_url(web(rep_a))
    rep_a.is_active = False
    rep_a.save()
    assert web(None).get(path).status_code == 404


def test_settings_page_needs_sign_in_and_post(web, rep_a):
    assert web(None).get("/calendar/feed/").status_code == 302
    assert web(rep_a).get("/calendar/feed/new/").status_code == 405
    page = web(rep_a).get("/calendar/feed/").content.decode()
    assert "You have no calendar feed" in page
    assert "/calendar/feed/" in web(rep_a).get("/calendar/").content.decode()


def test_fields_the_role_hides_are_blank_in_the_feed(web, rep_a):
    meeting(rep_a, "Visible subject", timezone.now() + dt.timedelta(days=1), body="Confidential notes")
    Role.objects.filter(profiles__user=rep_a).update(field_access={"activity": {"body": "hidden"}})
    got = events(web(None), new_feed_url(web(rep_a)))
    assert "description" not in got["Visible subject"]
    assert b"Confidential" not in web(None).get(new_feed_url(web(rep_a))).content
