"""Web-to-lead forms and the per-IP submission log that rate-limits them."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class WebForm(models.Model):
    change_log_type = "web_form"  # the object_type of its change-log rows (it is not a record)

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Owner of new leads, unless a team is set for round-robin.",
    )
    assign_team = models.ForeignKey("access.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lead_source = models.CharField(max_length=100, default="web form")
    success_message = models.CharField(max_length=255, default="Thank you! We will be in touch.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class InboundHit(models.Model):
    ip = models.GenericIPAddressField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip", "at"], name="automation_hit_ip")]
