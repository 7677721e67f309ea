from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.access.querysets import owner_q
from crm.core.models import RecordModel

LINKED = ("company", "contact", "lead", "deal")
READS = ("view", "export")  # what a link to a visible record lets a user do with someone else's row


def linked_visibility_q(cls, policy, action: str = "view"):
    """Own-scope rows, plus, for reading only, any row linked to a record the user can see (so a
    shared record's timeline is complete). Seeing a colleague's call on my deal does not let me
    change or delete it: those stay within the role's own/team/all scope."""
    from crm.records.models import Company, Contact, Deal, Lead

    own = owner_q(policy, cls.owner_field)
    if own is None or action not in READS:
        return own
    q = own
    for name, model in (("company", Company), ("contact", Contact), ("lead", Lead), ("deal", Deal)):
        if policy.allows(name, "view"):
            model_q = model.visibility_q(policy)
            q |= Q(**{f"{name}__isnull": False}) & Q(**{f"{name}__in": model.objects.filter(model_q)})
    return q


class ActivityKind(models.TextChoices):
    NOTE = "note"
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"


class Activity(RecordModel):
    """One entry on the timeline, linked to any of a company, contact, lead and deal."""

    object_type = "activity"

    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True, max_length=100_000)
    occurred_at = models.DateTimeField(default=timezone.now)
    direction = models.CharField(max_length=10, blank=True, choices=[("inbound", "Inbound"), ("outbound", "Outbound")])
    outcome = models.CharField(max_length=50, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    participants = models.ManyToManyField("records.Contact", blank=True, related_name="participated_in")
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    contact = models.ForeignKey(
        "records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    lead = models.ForeignKey(
        "records.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    deal = models.ForeignKey(
        "records.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="activity_contact_time"),
            models.Index(fields=["company", "occurred_at"], name="activity_company_time"),
            models.Index(fields=["deal", "occurred_at"], name="activity_deal_time"),
            models.Index(fields=["lead", "occurred_at"], name="activity_lead_time"),
            models.Index(fields=["owner", "occurred_at"], name="activity_owner_time"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} {self.pk}"

    visibility_q = classmethod(linked_visibility_q)

    snapshot_prefetch = ("participants",)

    def extra_snapshot(self) -> dict:
        return {"participants": sorted(p.pk for p in self.participants.all()) if self.pk else []}


class TaskStatus(models.TextChoices):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskPriority(models.TextChoices):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Task(RecordModel):
    object_type = "task"
    owner_field = "assignee"

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True, max_length=100_000)
    due_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    priority = models.CharField(max_length=10, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    completed_at = models.DateTimeField(null=True, blank=True)
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    contact = models.ForeignKey(
        "records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    lead = models.ForeignKey("records.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    deal = models.ForeignKey("records.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due"),
            models.Index(fields=["status", "reminder_at"], name="task_reminder"),
            models.Index(fields=["contact"], name="task_contact"),
            models.Index(fields=["company"], name="task_company"),
            models.Index(fields=["deal"], name="task_deal"),
            models.Index(fields=["lead"], name="task_lead"),
        ]

    def __str__(self) -> str:
        return self.title

    visibility_q = classmethod(linked_visibility_q)
