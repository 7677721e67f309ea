"""Import batches: each import (dry run or real) with its mapping, counts and per-row results."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class BatchStatus(models.TextChoices):
    QUEUED = "queued"  # started from the web app or the API: waits for a worker
    DRY_RUN = "dry_run"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


class ImportBatch(models.Model):
    object_type = models.CharField(max_length=40, help_text="The record type's slug (a custom type's: up to 40).")
    file_name = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="column header -> target field")
    update_existing = models.BooleanField(default=False)
    create_companies = models.BooleanField(
        default=False, help_text="Contacts: a company named in a row that matches none is created."
    )
    dry_run = models.BooleanField(default=False, help_text="Checks every row and writes nothing.")
    match_on = models.CharField(
        max_length=60, blank=True, help_text="email, domain, cf_<key> (an external id) or none; blank: the type's own."
    )
    status = models.CharField(max_length=10, choices=BatchStatus.choices)
    counts = models.JSONField(default=dict, help_text='{"create", "update", "skip", "error"}')
    processed = models.PositiveIntegerField(default=0, help_text="Rows read so far (progress of a running import).")
    size = models.PositiveBigIntegerField(default=0, help_text="The file's size in bytes.")
    position = models.PositiveBigIntegerField(default=0, help_text="Bytes read so far: progress as a fraction of size.")
    stored_file = models.CharField(
        max_length=255, blank=True, help_text="Upload kept under var/imports/ until a background import has run."
    )
    message = models.TextField(blank=True, help_text="Why a failed batch failed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.object_type} ({self.status})"


class RowAction(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    ERROR = "error"


class ImportRow(models.Model):
    """One file row's outcome. Original cells are kept for rows with problems (the error report);
    ``before`` holds an updated record's previous values, for undo."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="Line of the file where the row starts; the header is line 1.")
    action = models.CharField(max_length=10, choices=RowAction.choices)
    object_id = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    values = models.JSONField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        indexes = [models.Index(fields=["batch", "number"], name="import_row_batch_number")]

    def __str__(self) -> str:
        return f"Row {self.number}: {self.action}"


class ImportCreated(models.Model):
    """A record a batch created besides its own rows (a contact import's new companies): undo removes it,
    after the batch's rows are reverted."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="created_records")
    object_type = models.CharField(max_length=30, help_text='e.g. "company"')
    object_id = models.BigIntegerField()

    class Meta:
        ordering = ["batch", "id"]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} created by import {self.batch_id}"


class ImportMapping(models.Model):
    """A column mapping saved under a name, to reuse for the next file from the same source."""

    object_type = models.CharField(max_length=40, help_text="The record type's slug.")
    name = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict, help_text="column header -> target field")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["object_type", "name"]
        constraints = [models.UniqueConstraint(fields=["object_type", "name"], name="import_mapping_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.object_type})"


class ScanStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DuplicateScan(models.Model):
    """One run of the duplicate finder for a user (pairs are among the records that user sees), run
    by a worker: at a million contacts it takes tens of seconds, longer than a web request should."""

    object_type = models.CharField(max_length=30)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    pairs = models.JSONField(default=list, blank=True, help_text="The best pairs, best first (as the API lists them).")
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "object_type", "created_at"], name="dupscan_user_type")]

    def __str__(self) -> str:
        return f"Duplicate scan {self.pk} of {self.object_type} ({self.status})"
