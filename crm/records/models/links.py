"""One generic link from an activity or a task to a record of any type that has a timeline.

A row says "this activity is about contact 42": the record's type (its registry object_type) and
id. An activity or task may be linked to any number of records, of built-in types or of types
declared later, without a column per type. Deleting a record removes its links (the record
services do it, see crm/records/links.py), as the old per-type foreign keys were set to NULL.
"""

from __future__ import annotations

from django.db import models


class RecordLink(models.Model):
    record_type = models.CharField(max_length=30)
    record_id = models.PositiveBigIntegerField()

    class Meta:
        abstract = True

    @property
    def key(self) -> str:
        return f"{self.record_type}:{self.record_id}"


class ActivityLink(RecordLink):
    activity = models.ForeignKey("records.Activity", on_delete=models.CASCADE, related_name="links")
    # The activity's time, copied here (the services keep it equal): a record's timeline then reads its
    # newest 50 from this index alone, however many thousand activities the record has.
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id", "activity"], name="activitylink_unique")
        ]
        indexes = [
            models.Index(fields=["record_type", "record_id", "occurred_at", "activity"], name="activitylink_timeline")
        ]


class TaskLink(RecordLink):
    task = models.ForeignKey("records.Task", on_delete=models.CASCADE, related_name="links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id", "task"], name="tasklink_unique")]
