"""The job runtime and the scheduler in one process: claims, leases, fencing, reminders, bell."""

import datetime as dt
import zoneinfo

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from crm.automation import jobs, scheduler
from crm.automation.models import Job, JobStatus, Notification, Schedule, TaskReminder
from crm.mail.models import OutgoingEmail
from crm.records.models import Tag
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


@jobs.handler("test.make_tag")
def make_tag(job):
    Tag.objects.create(name=job.payload["name"])


def test_a_job_is_claimed_once():
    job = Job.objects.create(kind="test.make_tag", payload={"name": "a"})
    assert jobs.claim(job.pk, worker="w1") is not None
    assert jobs.claim(job.pk, worker="w2") is None


def test_an_expired_lease_is_reclaimed_and_the_stale_attempt_changes_nothing():
    job = Job.objects.create(kind="test.make_tag", payload={"name": "once"})
    first = jobs.claim(job.pk, worker="dead")
    later = timezone.now() + jobs.lease() + dt.timedelta(seconds=1)
    assert scheduler.reclaim_expired(later) == 1
    assert jobs.run(job.pk, worker="alive", now=later) == "done"
    # The first worker wakes up and tries to finish: the fence (attempt number) refuses it.
    with pytest.raises(jobs.LeaseLost), transaction.atomic():
        Tag.objects.create(name="stale")
        jobs._finish(first)
    assert list(Tag.objects.values_list("name", flat=True)) == ["once"]
    assert Job.objects.get(pk=job.pk).attempts == 2


def test_enqueue_with_a_key_makes_one_job(commit):
    with commit():
        assert jobs.enqueue("test.make_tag", {"name": "k"}, key="same") is not None
        assert jobs.enqueue("test.make_tag", {"name": "k"}, key="same") is None
    assert Tag.objects.filter(name="k").count() == 1


def test_deferred_jobs_are_dispatched_when_due_and_lost_hand_offs_redone(commit, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    job = jobs.enqueue("test.make_tag", {"name": "later"}, run_at=timezone.now() + dt.timedelta(minutes=5))
    assert scheduler.dispatch_due(timezone.now()) == 0
    soon = timezone.now() + dt.timedelta(minutes=6)
    assert scheduler.dispatch_due(soon) == 1
    assert scheduler.dispatch_due(soon) == 0  # already handed off
    assert scheduler.dispatch_due(soon + jobs.lease() + dt.timedelta(seconds=1)) == 1  # never picked up: again
    assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING


def test_out_of_attempts_a_dead_job_fails_with_a_reason():
    job = Job.objects.create(kind="test.make_tag", payload={"name": "x"}, max_attempts=1)
    jobs.claim(job.pk, worker="w1")
    scheduler.reclaim_expired(timezone.now() + jobs.lease() + dt.timedelta(seconds=1))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "w1 stopped" in job.last_error


def test_schedules_fire_once_per_due_time_and_catch_up_once():
    Schedule.objects.create(
        key="t",
        job_kind="test.make_tag",
        payload={"name": "s"},
        every_minutes=10,
        next_run_at=timezone.now() - dt.timedelta(hours=5),
    )
    now = timezone.now()
    assert scheduler.fire_schedules(now) == 1  # five hours of missed runs: fired once, not thirty times
    assert scheduler.fire_schedules(now) == 0
    assert Schedule.objects.get(key="t").next_run_at > now


def test_reminders_fire_once_and_follow_preferences(rep_a, rep_b, commit):
    now = timezone.now()
    TaskFactory(title="Call Ann", assignee=rep_a, reminder_at=now - dt.timedelta(minutes=1), due_at=now)
    TaskFactory(title="Later", assignee=rep_a, reminder_at=now + dt.timedelta(hours=1))
    TaskFactory(title="Done", assignee=rep_a, reminder_at=now - dt.timedelta(minutes=1), status="done")
    TaskFactory(title="Old news", assignee=rep_a, reminder_at=now - dt.timedelta(days=30))
    TaskFactory(title="Quiet", assignee=rep_b, reminder_at=now - dt.timedelta(minutes=1))
    from crm.automation.notifications import set_preference

    set_preference(rep_b, "reminder", in_app=True, email=False)
    with commit():
        assert scheduler.tick(now)["reminders"] == 2
        assert scheduler.tick(now)["reminders"] == 0
    assert sorted(Notification.objects.values_list("title", flat=True)) == ["Reminder: Call Ann", "Reminder: Quiet"]
    # Notification mail goes through the outbox (crm/mail): kept there, unsent without a mail server.
    notices = OutgoingEmail.objects.filter(notification=True)
    assert [(m.to, m.subject, m.status) for m in notices] == [(["rep_a@example.com"], "Reminder: Call Ann", "not_sent")]
    assert TaskReminder.objects.count() == 2


def test_a_moved_reminder_fires_again(rep_a):
    now = timezone.now()
    task = TaskFactory(title="t", assignee=rep_a, reminder_at=now - dt.timedelta(minutes=5))
    scheduler.tick(now)
    task.reminder_at = now - dt.timedelta(minutes=1)
    task.save()
    scheduler.tick(now)
    assert Notification.objects.filter(user=rep_a).count() == 2


def test_bell_unread_count_read_and_preferences_api(api, rep_a, rep_b):
    from crm.automation.notifications import notify

    for i in range(3):
        notify(rep_a, "automation", f"n{i}")
    notify(rep_b, "automation", "not yours")
    client = api(rep_a)
    assert client.get("/automation/notifications/unread-count").json() == {"unread": 3}
    items = client.get("/automation/notifications").json()
    assert [n["title"] for n in items] == ["n2", "n1", "n0"]
    assert client.post("/automation/notifications/read", {"ids": [items[0]["id"]]}).json() == {"marked": 1}
    assert client.get("/automation/notifications/unread-count").json() == {"unread": 2}
    assert client.post("/automation/notifications/read", {}).json() == {"marked": 2}
    r = client._call(
        "put", "/automation/notification-preferences", {"kind": "automation", "in_app": False, "email": True}
    )
    assert r.status_code == 200
    prefs = {p["kind"]: p for p in client.get("/automation/notification-preferences").json()}
    assert prefs["automation"] == {"kind": "automation", "in_app": False, "email": True}
    bad = client._call("put", "/automation/notification-preferences", {"kind": "x", "in_app": True, "email": False})
    assert bad.status_code == 422
    notify(rep_a, "automation", "email only")
    assert not Notification.objects.filter(title="email only").exists()


def test_daily_digest(rep_a, commit):
    now = timezone.now()
    TaskFactory(title="Overdue one", assignee=rep_a, due_at=now - dt.timedelta(days=1))
    TaskFactory(title="Next week", assignee=rep_a, due_at=now + dt.timedelta(days=7))
    with commit():
        jobs.enqueue("digest.daily", {})
    note = Notification.objects.get(kind="digest")
    assert "1 overdue" in note.title and "Overdue one" in note.body and "Next week" not in note.body


@pytest.mark.parametrize(
    "zone, now, due, expected",
    [
        # 07:30 on the 16th in Auckland is 18:30 on the 15th in UTC: the afternoon is still today.
        (
            "Pacific/Auckland",
            "2031-01-15 18:30",
            {"Early call": "2031-01-16 06:00", "Afternoon demo": "2031-01-16 15:00", "Tomorrow": "2031-01-17 00:30"},
            ["Early call (due 2031-01-16 06:00, overdue)", "Afternoon demo (due 2031-01-16 15:00)"],
        ),
        # 21:00 on the 15th in Los Angeles is 05:00 on the 16th in UTC: the 16th is tomorrow.
        (
            "America/Los_Angeles",
            "2031-01-16 05:00",
            {"Late call": "2031-01-15 23:00", "Tomorrow": "2031-01-16 10:00"},
            ["Late call (due 2031-01-15 23:00)"],
        ),
    ],
)
def test_daily_digest_today_is_the_organizations_day(settings, rep_a, commit, zone, now, due, expected):
    settings.TIME_ZONE = zone
    local = zoneinfo.ZoneInfo(zone)
    for title, at in due.items():
        TaskFactory(title=title, assignee=rep_a, due_at=dt.datetime.fromisoformat(at).replace(tzinfo=local))
    with freeze_time(dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)), commit():
        jobs.enqueue("digest.daily", {})
    note = Notification.objects.get(kind="digest")
    assert note.body.splitlines() == [f"- {line}" for line in expected]
    overdue = sum("overdue" in line for line in expected)
    assert note.title == f"{len(expected)} task(s) due today, {overdue} overdue"
