"""Durable units of background work, and recurring schedules.

A Job row is the source of truth; the django.tasks backend (database or RQ) only carries its id to
a worker. A worker claims a job with one conditional UPDATE (so only one runs it), holds it for a
lease, and commits the job's effect together with its "done" mark, so a worker that dies mid-job
leaves nothing behind and the job is reclaimed after the lease.
"""

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(models.Model):
    kind = models.CharField(max_length=50, help_text="Handler name, e.g. rule.run or webhook.deliver.")
    payload = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True, help_text="At most one job per key.")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    run_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    lease_until = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "run_at"], name="automation_job_due"),
            models.Index(fields=["status", "lease_until"], name="automation_job_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class Schedule(models.Model):
    """A recurring trigger (a rule's schedule, the daily digest): fired once per due time."""

    key = models.CharField(max_length=100, unique=True)
    job_kind = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, blank=True)
    cron = models.CharField(max_length=100, blank=True, help_text="Cron expression, in TIME_ZONE.")
    every_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="automation_schedule_due")]

    def __str__(self) -> str:
        return self.key
