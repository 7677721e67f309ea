"""Outbound webhook subscriptions and their delivery log."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    change_log_type = "webhook"  # the object_type of its change-log rows (it is not a record)
    change_log_hidden = ("secret",)  # the signing secret is shown once, never kept in the change log

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=new_secret)
    event_types = models.JSONField(default=list, blank=True, help_text='e.g. ["record.created", "deal.won"]; [] = all')
    object_types = models.JSONField(default=list, blank=True, help_text="[] = all object types")
    enabled = models.BooleanField(default=True)
    # The role whose field rules shape the payloads (hidden fields left out); none: every field, the
    # admin feed. Deleting the role disables the subscription first (crm/automation/webhooks.py), so a
    # feed never widens to every field by itself.
    role = models.ForeignKey(
        "access.Role",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Payloads leave out the fields this role may not see. Empty: all fields (admin feed).",
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str, object_type: str) -> bool:
        return (not self.event_types or event_type in self.event_types) and (
            not self.object_types or object_type in self.object_types
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subscription", "created_at"], name="automation_delivery_sub")]
