"""The scheduler tick, run every second or so by every `crm worker` (any number of them at once).

Each step is safe to run concurrently: due jobs are dispatched and dead leases reclaimed with
conditional UPDATEs, schedules advance with a compare-and-set on ``next_run_at``, and reminders and
date-relative rules insert a row under a unique key before acting. So every due item fires once,
and items that came due while no worker ran fire on the next tick (catch-up).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zoneinfo

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from crm.automation import jobs
from crm.automation.models import Job, JobStatus, Schedule

log = logging.getLogger("crm.automation")
BATCH = 200


def dispatch_due(now) -> int:
    """Hand due pending jobs to the task backend; a hand-off unclaimed after a lease is redone."""
    stale = now - jobs.lease()
    ids = list(
        Job.objects.filter(status=JobStatus.PENDING, run_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
        .order_by("run_at", "id")
        .values_list("id", flat=True)[:BATCH]
    )
    sent = 0
    for job_id in ids:
        fresh = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
        if Job.objects.filter(fresh, pk=job_id, status=JobStatus.PENDING).update(dispatched_at=now):
            jobs.dispatch(job_id)
            sent += 1
    return sent


def reclaim_expired(now) -> int:
    """Jobs whose worker died mid-run: back to pending (or failed when out of attempts)."""
    count = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, lease_until__lt=now)[:BATCH]:
        same = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts, lease_until__lt=now)
        error = f"Worker {job.worker} stopped before finishing attempt {job.attempts}."
        if job.attempts >= job.max_attempts:
            count += same.update(status=JobStatus.FAILED, finished_at=now, lease_until=None, last_error=error)
        else:
            count += same.update(status=JobStatus.PENDING, lease_until=None, dispatched_at=None, last_error=error)
    return count


def next_time(schedule: Schedule, after: dt.datetime) -> dt.datetime:
    if schedule.cron:
        from croniter import croniter

        local = after.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
        return croniter(schedule.cron, local).get_next(dt.datetime).astimezone(dt.UTC)
    return after + dt.timedelta(minutes=schedule.every_minutes or 60)


def fire_schedules(now) -> int:
    """Each due schedule fires once (compare-and-set), then moves to its next time after now."""
    fired = 0
    for schedule in Schedule.objects.filter(enabled=True, next_run_at__lte=now)[:BATCH]:
        due = schedule.next_run_at
        following = next_time(schedule, now)
        won = Schedule.objects.filter(pk=schedule.pk, next_run_at=due).update(next_run_at=following, last_run_at=now)
        if won:
            key = f"schedule:{schedule.key}:{due.isoformat()}"
            jobs.enqueue(schedule.job_kind, {**schedule.payload, "due_at": due.isoformat()}, key=key)
            fired += 1
    return fired


def tick(now=None) -> dict:
    """One pass of every scheduler step; a failing step is logged and the others still run."""
    from crm.automation import reminders, triggers

    now = now or timezone.now()
    done = {}
    steps = (
        ("reclaimed", reclaim_expired),
        ("schedules", fire_schedules),
        ("reminders", reminders.fire_due),
        ("date_rules", triggers.fire_date_rules),
        ("dispatched", dispatch_due),
    )
    for name, step in steps:
        try:
            done[name] = step(now)
        except Exception:
            log.exception("Scheduler step %s failed", name)
    return done


class SchedulerThread(threading.Thread):
    """Runs ``tick`` every AUTOMATION_TICK_SECONDS beside a worker's main loop."""

    def __init__(self, interval: float | None = None):
        super().__init__(name="crm-scheduler", daemon=True)
        self.interval = interval if interval is not None else settings.AUTOMATION_TICK_SECONDS
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            close_old_connections()
            tick()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
