from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MERGE = "merge"


class ObjectChange(models.Model):
    """One create, update or delete of one record, with the field-level before/after diff."""

    time = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    user_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, help_text='{"field": [before, after]}')
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    source = models.CharField(max_length=20, default="system")

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "time"], name="change_object_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"


class ReadAction(models.TextChoices):
    EXPORT = "export"  # a record list as CSV, XLSX or vCards
    VIEW_SENSITIVE = "view_sensitive"  # a record read that returned decrypted (encrypted-field) values
    SUBJECT_ACCESS = "subject_access"  # a GDPR subject-access ZIP


class ReadEvent(models.Model):
    """One read worth knowing about: an export, a subject access, a view of sensitive fields. Append-only:
    the database refuses UPDATE and DELETE (migration 0002), the user being deleted aside (user -> NULL)."""

    time = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=20, choices=ReadAction.choices)
    object_type = models.CharField(max_length=30, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    count = models.IntegerField(null=True, blank=True, help_text="Rows exported, records in a subject access.")
    detail = models.JSONField(default=dict, help_text="The filters, the format, the sensitive fields.")
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    source = models.CharField(max_length=20, default="system")

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["action", "time"], name="read_action_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id or ''}".strip()
