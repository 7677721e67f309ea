"""What the privacy tools keep: the block list and the logs of requests. None of these rows holds a
person's email, phone or name: only keyed hashes of them (crm.privacy.blocklist.keyed_hash)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Blocked(models.Model):
    """A person who asked to be erased: the create services refuse their email or phone again."""

    KINDS = [("email", "Email"), ("phone", "Phone")]

    hash = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of kind:normalized value.")
    kind = models.CharField(max_length=10, choices=KINDS)
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    change_log_type = "privacy_block"

    def __str__(self) -> str:
        return f"Blocked {self.kind} {self.hash[:12]}…"


class ErasureLog(models.Model):
    """One erasure: who, when, how many of what, and the keyed hashes of the identifiers erased."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    created_at = models.DateTimeField(default=timezone.now)
    subject_hashes = models.JSONField(
        default=list, blank=True, help_text="Keyed hashes of the emails and phones erased."
    )
    counts = models.JSONField(default=dict, blank=True, help_text='{"contact": 1, "activity": 2, "changes": 7, ...}')
    blocked = models.BooleanField(default=True, help_text="Whether the person may not be added again.")
    source = models.CharField(max_length=20, default="system", help_text="api, web, cli, system (retention).")

    change_log_type = "privacy_erasure"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Erasure {self.pk}"


class AccessRequest(models.Model):
    """One subject access export: who asked, when, about whom (hashed) and what it held."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    subject_hashes = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="system")

    change_log_type = "privacy_access"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Subject access {self.pk}"


class RetentionPolicy(models.Model):
    """Records of a type untouched (or created) more than ``months`` ago are deleted or anonymized by
    the daily run (crm.privacy.retention); a dry-run report lists what the next run would do.
    ``status``: when set, only the records in that status (a value of the type's status field, e.g.
    a lead "disqualified", a deal "lost") are due."""

    ACTIONS = [("delete", "Delete"), ("anonymize", "Anonymize")]
    FIELDS = [("updated_at", "Last changed"), ("created_at", "Created")]

    object_type = models.CharField(max_length=40, help_text="A record type of the registry (its object type).")
    action = models.CharField(max_length=10, choices=ACTIONS)
    months = models.PositiveIntegerField()
    field = models.CharField(max_length=10, choices=FIELDS, default="updated_at")
    status = models.CharField(
        max_length=40, blank=True, help_text="Only records in this status (the type's status field); empty: any."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)

    change_log_type = "privacy_retention"

    class Meta:
        ordering = ["object_type", "id"]

    def __str__(self) -> str:
        status = f" in status {self.status}" if self.status else ""
        return f"{self.action} {self.object_type}{status} after {self.months} months ({self.field})"
