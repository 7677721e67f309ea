"""The "My tasks" page: grouped by due date in the user's time zone, snooze and reschedule in one click."""

import datetime as dt
import re
import zoneinfo

from django.utils import timezone

from crm.access.models import Profile
from crm.audit.models import ObjectChange
from crm.records.models import Task
from crm.records.services import activities
from crm.web.views.my_tasks import grouped_tasks

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def in_new_york(user):
    Profile.objects.filter(user=user).update(time_zone="America/New_York")


def task(actor, title, due=None, **data):
    return activities.task_create(actor=actor, data={"title": title, "due_at": due, **data}).obj


def titles(groups, key):
    return [t.title for g in groups if g["key"] == key for t in g["tasks"]]


def test_grouping_follows_the_users_day(rep_a):
    # 18:00 in New York is 23:00 UTC: a task due at 23:30 tonight (04:30 UTC tomorrow) is Today.
    now = dt.datetime(2026, 3, 9, 18, 0, tzinfo=NEW_YORK)
    at = lambda d, h, m=0: dt.datetime(2026, 3, 9, h, m, tzinfo=NEW_YORK) + dt.timedelta(days=d)  # noqa: E731
    task(rep_a, "Late tonight", at(0, 23, 30))
    task(rep_a, "Missed this morning", at(0, 9))
    task(rep_a, "Tomorrow first thing", at(1, 0, 5))
    task(rep_a, "In a week", at(7, 12))
    task(rep_a, "In eight days", at(8, 12))
    task(rep_a, "Someday")
    with timezone.override(NEW_YORK):
        groups = grouped_tasks(rep_a, now=now)
    assert titles(groups, "overdue") == ["Missed this morning"]
    assert titles(groups, "today") == ["Late tonight"]
    assert titles(groups, "upcoming") == ["Tomorrow first thing", "In a week"]
    assert titles(groups, "later") == ["In eight days"]
    assert titles(groups, "none") == ["Someday"]
    assert [g["count"] for g in groups] == [1, 1, 2, 1, 1]


def test_page_lists_only_my_open_tasks_with_counts(web, rep_a, rep_b, manager, admin_user, ada):
    now = timezone.now()
    task(rep_a, "Call Ada", now - dt.timedelta(days=2), contact_id=ada.pk)
    task(rep_a, "Send deck", now + dt.timedelta(days=3))
    done = task(rep_a, "Already done", now + dt.timedelta(days=3))
    activities.task_complete(done, actor=rep_a)
    task(rep_b, "Not mine", now + dt.timedelta(days=1))
    task(admin_user, "Assigned to B", now + dt.timedelta(days=1), assignee_id=rep_b.pk)
    page = web(rep_a).get("/tasks/mine/").content.decode()
    assert "Call Ada" in page and "Send deck" in page
    assert "Already done" not in page and "Not mine" not in page and "Assigned to B" not in page
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert counts == {"overdue": "1", "today": "0", "upcoming": "1", "later": "0", "none": "0"}
    assert f'href="/contacts/{ada.pk}/"' in page
    assert "/tasks/mine/" in web(rep_a).get("/tasks/").content.decode()
    assert "/tasks/mine/" in web(rep_a).get("/").content.decode()
    # My manager may see my tasks, but their "My tasks" lists only theirs.
    assert "Call Ada" not in web(manager).get("/tasks/mine/").content.decode()


def test_a_linked_record_i_may_not_open_is_blank(web, admin_user, rep_b, ada):
    task(admin_user, "Call Ada for B", timezone.now(), contact_id=ada.pk, assignee_id=rep_b.pk)
    page = web(rep_b).get("/tasks/mine/").content.decode()
    assert "Call Ada for B" in page
    assert "Lovelace" not in page and f"/contacts/{ada.pk}/" not in page


def test_snooze_to_tomorrow_and_next_monday_in_my_zone(web, rep_a):
    in_new_york(rep_a)
    t = task(rep_a, "Snooze me", timezone.now())
    client = web(rep_a)
    r = client.post(f"/tasks/{t.pk}/snooze/", {"until": "tomorrow", "version": t.version}, **HTMX)
    assert r.status_code == 200 and "Snooze me" in r.content.decode()
    t.refresh_from_db()
    today = timezone.localtime(timezone.now(), NEW_YORK).date()
    local = timezone.localtime(t.due_at, NEW_YORK)
    assert (local.date(), local.hour, local.minute) == (today + dt.timedelta(days=1), 9, 0)
    change = ObjectChange.objects.filter(object_type="task", object_id=t.pk, action="update").first()
    assert change is not None and "due_at" in change.changes

    r = client.post(f"/tasks/{t.pk}/snooze/", {"until": "next_week", "version": t.version}, **HTMX)
    assert r.status_code == 200
    t.refresh_from_db()
    local = timezone.localtime(t.due_at, NEW_YORK)
    assert local.weekday() == 0 and local.hour == 9 and 1 <= (local.date() - today).days <= 7


def test_reschedule_to_a_typed_date(web, rep_a):
    in_new_york(rep_a)
    t = task(rep_a, "Move me", dt.datetime(2026, 3, 9, 14, 30, tzinfo=NEW_YORK))
    r = web(rep_a).post(f"/tasks/{t.pk}/reschedule/", {"due_date": "2026-04-02", "version": t.version}, **HTMX)
    assert r.status_code == 200
    t.refresh_from_db()
    assert t.due_at == dt.datetime(2026, 4, 2, 14, 30, tzinfo=NEW_YORK)  # the same time of day
    assert ObjectChange.objects.filter(object_type="task", object_id=t.pk, action="update").exists()


def group_of_task(html: str, pk: int) -> str:
    """The key of the group whose section holds the task's row."""
    sections = re.findall(r'<section class="card mytasks" aria-labelledby="h-(\w+)">(.*?)</section>', html, re.S)
    return next((key for key, section in sections if f'id="task-{pk}"' in section), "")


def test_a_one_click_move_answers_every_group_so_the_task_lands_in_its_new_one(web, rep_a):
    """Issue #20's grouping with counts holds after each one-click move, not only after a reload: the
    answer replaces the groups (HX-Retarget), the moved task in its new group with its link focused;
    a completed task leaves the page. A refused move still answers with its row (test above)."""
    late = task(rep_a, "Late one", timezone.now() - dt.timedelta(days=2))
    done = task(rep_a, "Done one", timezone.now() + dt.timedelta(days=30))
    client = web(rep_a)
    r = client.post(f"/tasks/{late.pk}/snooze/", {"until": "tomorrow", "version": late.version}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and r["HX-Retarget"] == "#mytask-groups" and r["HX-Reswap"] == "outerHTML"
    assert '<div id="mytask-groups">' in html
    assert group_of_task(html, late.pk) == "upcoming" and group_of_task(html, done.pk) == "later"
    assert '<span class="badge" data-count="overdue">0</span>' in html
    assert '<span class="badge" data-count="upcoming">1</span>' in html
    assert re.search(rf'href="/tasks/{late.pk}/" autofocus>Late one<', html)

    r = client.post(f"/tasks/{done.pk}/complete/", {"answer": "groups"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and r["HX-Retarget"] == "#mytask-groups"
    assert f'id="task-{done.pk}"' not in html and '<span class="badge" data-count="later">0</span>' in html
    assert Task.objects.get(pk=done.pk).status == "done"
    # Elsewhere (the task list, home, a record page) completing still answers with the row.
    other = task(rep_a, "Other", timezone.now())
    r = client.post(f"/tasks/{other.pk}/complete/", **HTMX)
    assert r.status_code == 200 and "HX-Retarget" not in r and f'id="task-{other.pk}"' in r.content.decode()


def test_bad_input_and_stale_version_show_in_the_row(web, rep_a):
    t = task(rep_a, "Keep me", timezone.now())
    client = web(rep_a)
    r = client.post(f"/tasks/{t.pk}/reschedule/", {"due_date": "not a date"}, **HTMX)
    assert r.status_code == 422 and 'role="alert"' in r.content.decode()
    r = client.post(f"/tasks/{t.pk}/snooze/", {"until": "someday"}, **HTMX)
    assert r.status_code == 422
    r = client.post(f"/tasks/{t.pk}/snooze/", {"until": "tomorrow", "version": t.version + 5}, **HTMX)
    assert r.status_code == 409 and "changed by someone else" in r.content.decode()
    reminded = task(rep_a, "Reminded", timezone.now() + dt.timedelta(days=5))
    activities.task_update(reminded, actor=rep_a, data={"reminder_at": timezone.now() + dt.timedelta(days=4)})
    r = client.post(f"/tasks/{reminded.pk}/snooze/", {"until": "tomorrow"}, **HTMX)
    assert r.status_code == 422 and "reminder" in r.content.decode()
    assert Task.objects.get(pk=t.pk).due_at == t.due_at


def test_read_only_sees_no_buttons_and_cannot_post(web, admin_user, readonly):
    t = task(admin_user, "For the viewer", timezone.now(), assignee_id=readonly.pk)
    page = web(readonly).get("/tasks/mine/").content.decode()
    assert "For the viewer" in page
    assert "/snooze/" not in page and "/reschedule/" not in page and "/complete/" not in page
    client = web(readonly)
    assert client.post(f"/tasks/{t.pk}/snooze/", {"until": "tomorrow"}, **HTMX).status_code == 403
    assert client.post(f"/tasks/{t.pk}/reschedule/", {"due_date": "2030-01-01"}, **HTMX).status_code == 403
    assert Task.objects.get(pk=t.pk).due_at == t.due_at


def test_someone_elses_task_cannot_be_moved(web, rep_a, rep_b):
    t = task(rep_a, "Mine only", timezone.now())
    assert web(rep_b).post(f"/tasks/{t.pk}/snooze/", {"until": "tomorrow"}).status_code == 404
    assert web(rep_b).get(f"/tasks/{t.pk}/snooze/").status_code in (404, 405)
    assert Task.objects.get(pk=t.pk).due_at == t.due_at
