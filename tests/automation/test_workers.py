"""Real worker processes: end to end, a crash mid-job, and two workers racing over reminders.

On SQLite they use the database backend, on PostgreSQL the Redis backend (RQ)."""

import datetime as dt
import os

from django.utils import timezone

from crm.automation import jobs, rules
from crm.automation.models import Job, JobStatus, Notification, TaskReminder
from crm.records.models import Tag, Task
from crm.records.services.leads import lead_create
from tests.automation.workers import wait_for
from tests.factories import TaskFactory, UserFactory


@jobs.handler("test.slow_effect")
def _slow_effect(job):  # the real body runs in the worker processes (worker_main.py)
    raise AssertionError("runs in the workers only")


def test_worker_runs_a_rule_after_a_change(worker_db):
    admin = UserFactory(username="boss", role="admin")
    rep = UserFactory(username="rep", role="sales-rep")
    rules.rule_create(
        actor=admin,
        data={
            "name": "new lead",
            "object_type": "lead",
            "trigger_type": "created",
            "actions": [{"type": "create_task", "title": "Call {{name}} within 1 hour", "due_in_hours": 1}],
        },
    )
    worker_db.start("w1")
    lead = lead_create(actor=rep, data={"first_name": "Ann", "last_name": "Lee"}).obj
    task = wait_for(lambda: Task.objects.linked_to(lead).first(), what="the rule's task", workers=worker_db)
    assert Job.objects.get(kind="rule.run").worker == "w1"  # done by the worker process, not in here
    assert task.title == "Call Ann Lee within 1 hour" and task.assignee == rep


def test_a_job_killed_midway_is_retried_by_another_worker_and_happens_once(worker_db, tmp_path):
    marker = str(tmp_path / "started")
    first, second = worker_db.start("w1"), worker_db.start("w2")
    job = jobs.enqueue("test.slow_effect", {"tag": "exactly-once", "marker": marker})
    wait_for(lambda: os.path.exists(marker) and open(marker).read(), what="the job to start", workers=worker_db)
    running = int(open(marker).read())
    victim = first if first.pid == running else second
    worker_db.kill(victim)  # mid-job: its effect was not committed
    wait_for(
        lambda: Job.objects.get(pk=job.pk).status == JobStatus.DONE, timeout=30, what="the retry", workers=worker_db
    )
    done = Job.objects.get(pk=job.pk)
    assert done.attempts == 2 and done.worker != victim.args[4]
    assert Tag.objects.filter(name="exactly-once").count() == 1


def test_two_workers_fire_every_reminder_exactly_once_including_missed_ones(worker_db):
    rep = UserFactory(username="rep", role="sales-rep")
    now = timezone.now()
    # Due while no worker ran (catch-up), and due over the next seconds while two workers race.
    for i in range(10):
        TaskFactory(title=f"past {i}", assignee=rep, reminder_at=now - dt.timedelta(minutes=i + 1))
    for i in range(10):
        TaskFactory(title=f"soon {i}", assignee=rep, reminder_at=now + dt.timedelta(seconds=1 + i * 0.2))
    worker_db.start("w1")
    worker_db.start("w2")
    wait_for(lambda: TaskReminder.objects.count() >= 20, timeout=30, what="all reminders", workers=worker_db)
    wait_for(lambda: Notification.objects.count() >= 20, what="all notifications", workers=worker_db)
    titles = sorted(Notification.objects.values_list("title", flat=True))
    assert len(titles) == 20 and len(set(titles)) == 20
    assert TaskReminder.objects.count() == 20
