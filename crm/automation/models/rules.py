"""Workflow rules (trigger, conditions, actions), their run history and firing marks."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Rule(models.Model):
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    object_type = models.CharField(max_length=20)
    trigger_type = models.CharField(max_length=30, help_text="created, updated, field_changed, stage_changed, ...")
    trigger = models.JSONField(default=dict, blank=True, help_text="The trigger's options (field, from, to, ...).")
    conditions = models.JSONField(default=dict, blank=True, help_text='{"all": [...], "any": [...]}')
    actions = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["enabled", "object_type", "trigger_type"], name="automation_rule_lookup")]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running"
    WAITING = "waiting"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # conditions did not match
    FAILED = "failed"
    BLOCKED = "blocked"  # loop protection refused it


class RuleRun(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField(null=True, blank=True)
    trigger = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    depth = models.PositiveSmallIntegerField(default=0)
    log = models.JSONField(default=list, blank=True, help_text="One entry per action: type, result or error.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["rule", "started_at"], name="automation_run_rule"),
            models.Index(fields=["object_type", "object_id", "started_at"], name="automation_run_record"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.object_type} {self.object_id}: {self.status}"


class RuleFiring(models.Model):
    """A date-relative rule fired for a record at one date value: the unique key makes it once."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    object_id = models.BigIntegerField()
    fire_key = models.CharField(max_length=64)
    value_date = models.DateField(null=True, blank=True)
    value_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "object_id", "fire_key"], name="automation_firing_once")]


class AssignmentCursor(models.Model):
    """Where a round-robin left off, per rule/form/team key."""

    key = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
