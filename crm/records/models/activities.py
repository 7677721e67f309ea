from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.access.querysets import RestrictedQuerySet, owner_q
from crm.core import recordtypes
from crm.core.models import RecordModel

READS = ("view", "export")  # what a link to a visible record lets a user do with someone else's row


def linked_visibility_q(cls, policy, action: str = "view"):
    """Own-scope rows, plus, for reading only, any row linked to a record the user can see (so a
    shared record's timeline is complete). Seeing a colleague's call on my deal does not let me
    change or delete it: those stay within the role's own/team/all scope."""
    own = owner_q(policy, cls.owner_field)
    if own is None or action not in READS:
        return own
    q = own
    for rt in recordtypes.all_types():
        if rt.timeline and policy.allows(rt.object_type, "view"):
            visible = rt.visible_ids(policy)
            ids = Q() if visible is None else Q(record_id__in=visible)
            q |= cls.linked_q(rt.object_type, ids)
    return q


class LinkedQuerySet(RestrictedQuerySet):
    def linked_to(self, record) -> LinkedQuerySet:
        """The rows linked to ``record`` (any record of a type with a timeline)."""
        return self.filter(self.model.linked_q(record.object_type, Q(record_id=record.pk)))


class Linked:
    """What activities and tasks share: their generic links (``links``, crm/records/models/links.py)."""

    @classmethod
    def linked_q(cls, record_type: str, q: Q | None = None) -> Q:
        """Rows with a link to a ``record_type`` record matching ``q`` (a condition on ``record_id``)."""
        link = cls.links.rel.related_model
        rows = link.objects.filter(q or Q(), record_type=record_type)
        return Q(pk__in=rows.values(cls.links.field.name))

    def linked_ids(self, record_type: str) -> list[int]:
        """Ids of the linked records of a type, oldest link first (reads prefetched ``links``)."""
        return [lk.record_id for lk in sorted(self.links.all(), key=lambda lk: lk.pk) if lk.record_type == record_type]

    def link_keys(self) -> list[str]:
        return sorted(lk.key for lk in self.links.all()) if self.pk else []

    def link_values(self) -> dict:
        """What each link row copies from the row (an activity's time, for the timeline index)."""
        return {}


class ActivityKind(models.TextChoices):
    NOTE = "note"
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"


class Activity(Linked, RecordModel):
    """One entry on the timeline, linked to any number of records (``links``)."""

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

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["owner", "occurred_at"], name="activity_owner_time"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} {self.pk}"

    visibility_q = classmethod(linked_visibility_q)

    objects = LinkedQuerySet.as_manager()
    snapshot_prefetch = ("participants", "links")

    def link_values(self) -> dict:
        return {"occurred_at": self.occurred_at}

    def extra_snapshot(self) -> dict:
        people = sorted(p.pk for p in self.participants.all()) if self.pk else []
        return {"participants": people, "links": self.link_keys()}


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


class Task(Linked, RecordModel):
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

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due"),
            models.Index(fields=["status", "reminder_at"], name="task_reminder"),
        ]

    def __str__(self) -> str:
        return self.title

    visibility_q = classmethod(linked_visibility_q)
    objects = LinkedQuerySet.as_manager()
    snapshot_prefetch = ("links",)

    def extra_snapshot(self) -> dict:
        return {"links": self.link_keys()}
