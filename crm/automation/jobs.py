"""The job runtime: enqueue durable jobs, claim them exactly once, run, retry with backoff.

``enqueue`` writes a Job row and, after commit, hands its id to the django.tasks backend. ``run``
claims the row with one conditional UPDATE (pending, or running with an expired lease), so two
workers never both run a job; an atomic handler's effect commits together with the job's "done"
mark, fenced by the attempt number, so a worker that died or lost its lease changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.automation.models import Job, JobStatus
from crm.core.errors import ServiceError

log = logging.getLogger("crm.automation")

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Handler:
    fn: Callable[[Job], object]
    atomic: bool  # effect and "done" commit together; False for work with outside effects (HTTP)


HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, atomic: bool = True):
    def register(fn):
        HANDLERS[kind] = Handler(fn, atomic)
        return fn

    return register


class LeaseLost(Exception):
    """Another worker reclaimed the job while this one ran it: this attempt's effect is dropped."""


class Retry(Exception):
    """Raised by a handler to ask for another attempt later, dropping the attempt's writes."""


@dataclass(frozen=True)
class RetryLater:
    """Returned by a handler to ask for another attempt later, keeping its bookkeeping writes."""

    error: str


def lease() -> timedelta:
    return timedelta(seconds=settings.AUTOMATION_JOB_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    base = getattr(settings, "AUTOMATION_RETRY_BASE_SECONDS", RETRY_BASE_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def enqueue(kind: str, payload: dict, *, run_at=None, key: str | None = None, max_attempts: int = 5) -> Job | None:
    """Create a job (None if one with ``key`` exists) and dispatch it after commit when due."""
    if kind not in HANDLERS:
        raise ValueError(f"No job handler for {kind!r}")
    now = timezone.now()
    run_at = run_at or now
    due = run_at <= now
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                payload=payload,
                key=key,
                run_at=run_at,
                max_attempts=max_attempts,
                dispatched_at=now if due else None,
            )
    except IntegrityError:
        if key and Job.objects.filter(key=key).exists():
            return None
        raise
    if due:
        transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id: int) -> None:
    """Hand the job to the task backend; a lost hand-off is redispatched by the scheduler."""
    from crm.automation.tasks import run_job

    try:
        run_job.enqueue(job_id)
    except Exception:
        log.exception("Could not enqueue job %s; the scheduler will retry", job_id)


def claim(job_id: int, *, worker: str | None = None, now=None) -> Job | None:
    now = now or timezone.now()
    worker = worker or WORKER_ID
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
    updated = (
        Job.objects.filter(claimable, pk=job_id, run_at__lte=now)
        .filter(attempts__lt=F("max_attempts"))
        .update(status=JobStatus.RUNNING, attempts=F("attempts") + 1, lease_until=now + lease(), worker=worker)
    )
    return Job.objects.get(pk=job_id) if updated else None


def _fenced(job: Job):
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)


def _finish(job: Job) -> None:
    if not _fenced(job).update(status=JobStatus.DONE, finished_at=timezone.now(), lease_until=None, last_error=""):
        raise LeaseLost(job.pk)


def _fail(job: Job, error: str, *, permanent: bool) -> bool:
    """Schedule another attempt, or mark the job failed; True when it will be retried."""
    now = timezone.now()
    if permanent or job.attempts >= job.max_attempts:
        _fenced(job).update(status=JobStatus.FAILED, finished_at=now, lease_until=None, last_error=error[:5000])
        return False
    return bool(
        _fenced(job).update(
            status=JobStatus.PENDING,
            run_at=now + backoff(job.attempts),
            lease_until=None,
            dispatched_at=None,
            last_error=error[:5000],
        )
    )


def will_retry(job: Job) -> bool:
    return job.attempts < job.max_attempts


def _settle(job: Job, outcome) -> str:
    if isinstance(outcome, RetryLater):
        if not _fenced(job).exists():
            raise LeaseLost(job.pk)
        return "retry" if _fail(job, outcome.error, permanent=False) else "failed"
    _finish(job)
    return "done"


def run(job_id: int, *, worker: str | None = None, now=None) -> str:
    """Claim and run one job; returns what happened (done, retry, failed, skipped, lost)."""
    job = claim(job_id, worker=worker, now=now)
    if job is None:
        return "skipped"
    h = HANDLERS.get(job.kind)
    if h is None:
        _fail(job, f"No handler for {job.kind!r}", permanent=True)
        return "failed"
    try:
        if h.atomic:
            with transaction.atomic():
                return _settle(job, h.fn(job))
        return _settle(job, h.fn(job))
    except LeaseLost:
        log.warning("Job %s was reclaimed by another worker; this attempt is dropped", job.pk)
        return "lost"
    except Retry as exc:
        _fail(job, str(exc) or "retry", permanent=False)
        return "retry"
    except ServiceError as exc:  # bad data or permissions: another attempt would fail the same way
        _fail(job, f"{type(exc).__name__}: {exc.message} {exc.fields or ''}".strip(), permanent=True)
        return "failed"
    except Exception as exc:
        log.exception("Job %s (%s) failed on attempt %s", job.pk, job.kind, job.attempts)
        _fail(job, f"{type(exc).__name__}: {exc}", permanent=False)
        return "retry" if job.attempts < job.max_attempts else "failed"


def run_due(*, limit: int = 100, now=None) -> int:
    """Run due pending jobs inline (tests, benchmarks, `crm worker --once`); returns how many ran."""
    now = now or timezone.now()
    due = Job.objects.filter(status=JobStatus.PENDING, run_at__lte=now).order_by("run_at", "id")
    ids = list(due.values_list("id", flat=True)[:limit])
    return sum(run(i, now=now) != "skipped" for i in ids)
