"""The calendar (/calendar/): meetings and tasks in the right day and hour of the viewer's time zone
(DST included), only what the viewer may see, a teammate's calendar for a manager, and rescheduling
through the update services with the version check."""

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.utils import timezone

from crm.access.models import Profile
from crm.audit.models import ObjectChange
from crm.records.services import activities
from crm.web import calendar as cal

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
JSON = {"HTTP_ACCEPT": "application/json"}


def lives_in(user, zone: str):
    Profile.objects.filter(user=user).update(time_zone=zone)


def task(actor, title, due, **data):
    return activities.task_create(actor=actor, data={"title": title, "due_at": due, **data}).obj


def meeting(actor, subject, at, **data):
    data = {"kind": "meeting", "subject": subject, "occurred_at": at, **data}
    return activities.activity_create(actor=actor, data=data).obj


def cell_of(page: str, key: str) -> str | None:
    """The data-cell of the calendar cell that holds the item ``key`` ("task-12")."""
    cells = re.findall(r'data-cell="([^"]+)">(.*?)</td>', page, re.S)
    found = [c for c, body in cells if f'id="cal-{key}"' in body]
    return found[0] if found else None


def page(client, **params) -> str:
    response = client.get("/calendar/", params)
    assert response.status_code == 200
    return response.content.decode()


# --- spans ------------------------------------------------------------------------------------


def test_spans_of_day_week_and_month():
    wed = dt.date(2026, 3, 11)
    day = cal.span_of("day", wed)
    assert (day.first, day.last, day.prev, day.next) == (wed, wed, dt.date(2026, 3, 10), dt.date(2026, 3, 12))
    week = cal.span_of("week", wed)
    assert (week.first, week.last) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    month = cal.span_of("month", wed)
    # March 2026 starts on a Sunday: the grid starts on Monday Feb 23 and ends on Sunday Apr 5.
    assert (month.first, month.last) == (dt.date(2026, 2, 23), dt.date(2026, 4, 5))
    assert (month.prev, month.next) == (dt.date(2026, 2, 1), dt.date(2026, 4, 1))
    assert len(month.days) % 7 == 0


def test_a_dst_day_spans_23_hours_in_the_users_zone():
    with timezone.override(NEW_YORK):
        span = cal.span_of("day", dt.date(2026, 3, 8))  # clocks go forward at 02:00
        assert span.end.timestamp() - span.start.timestamp() == 23 * 3600
        assert span.start == dt.datetime(2026, 3, 8, 5, 0, tzinfo=dt.UTC)


# --- placement --------------------------------------------------------------------------------


def test_items_sit_in_the_viewers_day_and_hour(web, rep_a):
    lives_in(rep_a, "America/New_York")
    # 23:30 in New York on March 10 is 03:30 UTC on March 11: the New York day and hour count.
    late = meeting(rep_a, "Late call", dt.datetime(2026, 3, 10, 23, 30, tzinfo=NEW_YORK))
    early = task(rep_a, "Morning task", dt.datetime(2026, 3, 11, 8, 15, tzinfo=NEW_YORK))
    html = page(web(rep_a), view="week", date="2026-03-11")
    assert cell_of(html, f"meeting-{late.pk}") == "2026-03-10T23:00"
    assert cell_of(html, f"task-{early.pk}") == "2026-03-11T08:00"
    assert ">23:30<" in html and "times in America/New_York" in html
    lives_in(rep_a, "Asia/Tokyo")  # the same moments, seen from Tokyo: a day later
    html = page(web(rep_a), view="week", date="2026-03-11")
    assert cell_of(html, f"meeting-{late.pk}") == "2026-03-11T12:00"
    assert cell_of(html, f"task-{early.pk}") == "2026-03-11T21:00"


def test_across_the_dst_change_the_local_hour_is_kept(web, rep_a):
    lives_in(rep_a, "America/New_York")
    before = task(rep_a, "Saturday nine", dt.datetime(2026, 3, 7, 9, 0, tzinfo=NEW_YORK))  # EST, 14:00 UTC
    after = task(rep_a, "Sunday nine", dt.datetime(2026, 3, 8, 9, 0, tzinfo=NEW_YORK))  # EDT, 13:00 UTC
    html = page(web(rep_a), view="week", date="2026-03-05")
    assert cell_of(html, f"task-{before.pk}") == "2026-03-07T09:00"
    assert cell_of(html, f"task-{after.pk}") == "2026-03-08T09:00"


def test_month_and_day_views(web, rep_a):
    lives_in(rep_a, "America/New_York")
    t = task(rep_a, "Month end", dt.datetime(2026, 3, 31, 17, 0, tzinfo=NEW_YORK))
    other = task(rep_a, "Next month", dt.datetime(2026, 4, 20, 17, 0, tzinfo=NEW_YORK))
    html = page(web(rep_a), view="month", date="2026-03-15")
    assert cell_of(html, f"task-{t.pk}") == "2026-03-31"
    assert f"task-{other.pk}" not in html
    html = page(web(rep_a), view="day", date="2026-03-31")
    assert cell_of(html, f"task-{t.pk}") == "2026-03-31T17:00"
    assert "date=2026-03-30" in html and "date=2026-04-01" in html  # previous / next


def test_only_meetings_and_only_my_visible_records(web, rep_a, rep_b, acme):
    at = timezone.now().replace(microsecond=0)
    mine = meeting(rep_a, "Mine", at)
    call = activities.activity_create(actor=rep_a, data={"kind": "call", "subject": "A call", "occurred_at": at}).obj
    theirs = meeting(rep_b, "Theirs", at)
    their_task = task(rep_b, "Their task", at)
    html = page(web(rep_a))
    assert f"meeting-{mine.pk}" in html
    assert f"meeting-{call.pk}" not in html and "A call" not in html
    assert "Theirs" not in html and "Their task" not in html
    # Asking for rep_b's calendar is refused to a rep whose role covers only their own records.
    assert web(rep_a).get("/calendar/", {"user": rep_b.pk}).status_code == 404
    assert theirs.pk and their_task.pk


def test_a_manager_picks_a_teammates_calendar(web, manager, rep_a, rep_b):
    at = timezone.now().replace(microsecond=0)
    t = task(rep_a, "Team task", at)
    task(rep_b, "Outside the team", at)
    html = page(web(manager), user=rep_a.pk)
    assert f"task-{t.pk}" in html and "Calendar of" in html
    assert 'name="user"' in html and f'<option value="{rep_b.pk}"' not in html
    assert web(manager).get("/calendar/", {"user": rep_b.pk}).status_code == 404


def test_read_only_user_sees_items_without_reschedule(web, readonly, admin_user):
    t = task(admin_user, "Visible", timezone.now(), assignee_id=readonly.pk)
    html = page(web(readonly))
    assert f"task-{t.pk}" in html
    assert 'draggable="true"' not in html and "calmoveform" not in html


def test_bad_query_values_fall_back(web, rep_a):
    html = page(web(rep_a), view="year", date="2026-02-31")
    assert "cal-week" in html


# --- rescheduling -----------------------------------------------------------------------------


def move(client, item, pk, **data):
    return client.post("/calendar/move/", {"item": item, "id": pk, **data}, **JSON)


def test_drag_a_task_to_another_day_and_slot_saves_through_the_service(web, rep_a):
    lives_in(rep_a, "America/New_York")
    t = task(rep_a, "Call back", dt.datetime(2026, 3, 10, 9, 30, tzinfo=NEW_YORK))
    r = move(web(rep_a), "task", t.pk, day="2026-03-12", time="14:00", version=t.version)
    assert r.status_code == 200, r.content
    t.refresh_from_db()
    assert t.due_at == dt.datetime(2026, 3, 12, 14, 0, tzinfo=NEW_YORK)
    assert json.loads(r.content)["version"] == t.version
    change = ObjectChange.objects.filter(object_type="task", object_id=t.pk, action="update").latest("id")
    assert "due_at" in change.changes and change.source == "web"


def test_month_drop_keeps_the_time_of_day_across_dst(web, rep_a):
    lives_in(rep_a, "America/New_York")
    m = meeting(rep_a, "Standup", dt.datetime(2026, 3, 6, 9, 30, tzinfo=NEW_YORK))  # EST
    r = move(web(rep_a), "meeting", m.pk, day="2026-03-09", version=m.version)  # EDT
    assert r.status_code == 200, r.content
    m.refresh_from_db()
    assert timezone.localtime(m.occurred_at, NEW_YORK).time() == dt.time(9, 30)
    assert m.occurred_at == dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC)


def test_a_stale_version_is_refused(web, rep_a):
    t = task(rep_a, "Busy", timezone.now())
    stale = t.version
    activities.task_update(t, actor=rep_a, data={"title": "Busy, renamed"})
    r = move(web(rep_a), "task", t.pk, day="2026-05-01", time="10:00", version=stale)
    assert r.status_code == 409
    assert "Reload the calendar" in json.loads(r.content)["error"]
    before = t.due_at
    t.refresh_from_db()
    assert t.due_at == before


def test_records_the_user_cannot_change_are_refused(web, rep_a, rep_b, readonly, admin_user, ada):
    theirs = task(rep_b, "Theirs", timezone.now())
    assert move(web(rep_a), "task", theirs.pk, day="2026-05-01").status_code == 404
    shown = task(admin_user, "Assigned to viewer", timezone.now(), assignee_id=readonly.pk)
    assert move(web(readonly), "task", shown.pk, day="2026-05-01").status_code == 403
    # A colleague's meeting on rep_a's contact: rep_a sees it through the link but may not move it.
    linked = meeting(admin_user, "On Ada", timezone.now(), contact_id=ada.pk, owner_id=rep_b.pk)
    assert move(web(rep_a), "meeting", linked.pk, day="2026-05-01").status_code == 403
    before = linked.occurred_at
    linked.refresh_from_db()
    assert linked.occurred_at == before
    call = activities.activity_create(actor=rep_a, data={"kind": "call", "occurred_at": timezone.now()}).obj
    assert move(web(rep_a), "meeting", call.pk, day="2026-05-01").status_code == 404  # not a meeting


def test_bad_input_is_a_422_never_a_500(web, rep_a):
    t = task(rep_a, "X", timezone.now())
    client = web(rep_a)
    assert move(client, "task", t.pk, day="2026-02-31").status_code == 422
    assert move(client, "task", t.pk, day="2026-03-01", time="25:99").status_code == 422
    assert move(client, "deal", t.pk, day="2026-03-01").status_code == 422
    assert move(client, "task", "abc", day="2026-03-01").status_code == 422
    assert client.get("/calendar/move/").status_code == 405


def test_a_task_rule_is_shown(web, rep_a):
    due = timezone.now() + dt.timedelta(days=3)
    t = task(rep_a, "With reminder", due, reminder_at=due - dt.timedelta(hours=1))
    r = move(web(rep_a), "task", t.pk, day=(due - dt.timedelta(days=2)).date().isoformat(), version=t.version)
    assert r.status_code == 422 and "reminder" in json.loads(r.content)["error"]


def test_the_form_without_script_redirects_back_with_a_message(web, rep_a):
    t = task(rep_a, "Form move", timezone.now())
    client = web(rep_a)
    r = client.post(
        "/calendar/move/",
        {
            "item": "task",
            "id": t.pk,
            "day": "2026-06-02",
            "time": "11:00",
            "version": t.version,
            "next": "/calendar/?view=month",
        },
    )
    assert r.status_code == 302 and r["Location"] == "/calendar/?view=month"
    r = client.post(
        "/calendar/move/",
        {"item": "task", "id": t.pk, "day": "2026-06-03", "version": t.version, "next": "https://evil.example/"},
    )
    assert r["Location"] == "/calendar/"
    follow = client.get("/calendar/")
    assert "Reload the calendar" in follow.content.decode()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_the_form_saves_the_typed_local_time(web, rep_a, zone):
    lives_in(rep_a, zone)
    t = task(rep_a, "Typed", timezone.now())
    web(rep_a).post(
        "/calendar/move/", {"item": "task", "id": t.pk, "day": "2026-11-01", "time": "01:30", "version": t.version}
    )
    t.refresh_from_db()
    # 01:30 on the day New York's clocks go back happens twice: the first (EDT) is taken.
    assert t.due_at.timestamp() == dt.datetime(2026, 11, 1, 1, 30, tzinfo=zoneinfo.ZoneInfo(zone)).timestamp()


def test_no_calendar_for_a_role_without_tasks_or_activities(web, db):
    from crm.access.models import Role
    from tests.factories import UserFactory

    role = Role.objects.create(
        slug="contacts-only", name="Contacts only", scope="all", permissions={"contact": ["view"]}
    )
    user = UserFactory(username="narrow")
    Profile.objects.update_or_create(user=user, defaults={"role": role})
    assert web(user).get("/calendar/").status_code == 403
    assert 'href="/calendar/"' not in web(user).get("/contacts/").content.decode()


def test_each_item_links_to_its_record(web, rep_a, rep_b, ada):
    at = timezone.now().replace(microsecond=0)
    t = task(rep_a, "Linked task", at)
    on_ada = meeting(rep_a, "With Ada", at, contact_id=ada.pk)
    alone = meeting(rep_a, "Alone", at)
    html = page(web(rep_a))
    assert f'href="/tasks/{t.pk}/"' in html
    item = html.split(f'id="cal-meeting-{on_ada.pk}"', 1)[1].split("</details>", 1)[0]
    assert f'href="/contacts/{ada.pk}/"' in item
    item = html.split(f'id="cal-meeting-{alone.pk}"', 1)[1].split("</details>", 1)[0]
    assert "<a " not in item.split("<details", 1)[0]


def test_a_meeting_does_not_link_to_a_record_the_viewer_cannot_open(web, rep_a, rep_b, admin_user):
    from crm.records.services import contacts

    secret = contacts.contact_create(actor=rep_b, data={"first_name": "Secret", "last_name": "Person"}).obj
    m = meeting(admin_user, "Shared", timezone.now(), owner_id=rep_a.pk, contact_id=secret.pk)
    html = page(web(rep_a))
    assert f"cal-meeting-{m.pk}" in html
    assert f"/contacts/{secret.pk}/" not in html and "Secret" not in html


def test_a_title_hidden_from_the_role_is_not_shown(web, admin_user):
    from crm.access.models import Role
    from tests.factories import UserFactory

    role = Role.objects.create(
        slug="no-titles",
        name="No titles",
        scope="all",
        permissions={"task": ["view"], "activity": ["view"]},
        field_access={"task": {"title": "hidden"}, "activity": {"subject": "hidden"}},
    )
    user = UserFactory(username="blind")
    Profile.objects.update_or_create(user=user, defaults={"role": role})
    t = task(admin_user, "Top secret task", timezone.now(), assignee_id=user.pk)
    m = meeting(admin_user, "Top secret meeting", timezone.now(), owner_id=user.pk)
    html = page(web(user))
    assert f"cal-task-{t.pk}" in html and f"cal-meeting-{m.pk}" in html
    assert "Top secret" not in html
