"""Saved list views: a name for a list's filters and sort, private or shared with the owner's team."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedView(models.Model):
    change_log_type = "saved_view"  # the object_type of its change-log rows (it is not a record)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, help_text="The list: companies, contacts, leads, deals or tasks.")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, blank=True, help_text="The list's query string: filters and sort.")
    shared = models.BooleanField(default=False, help_text="Shown to the owner's team too.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "kind"], name="savedview_owner_kind")]

    def __str__(self) -> str:
        return self.name


class ListColumns(models.Model):
    """The columns a user chose for one list, in their order (crm/web/columns.py); without a row the
    list shows the declared ones. A saved view carries its own in its query (``cols=``)."""

    change_log_type = "list_columns"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, help_text="The list: a record type's URL segment.")
    columns = models.JSONField(default=list, help_text="Column keys in the order shown: field names, cf_<key>.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "kind"], name="listcolumns_owner_kind")]

    def __str__(self) -> str:
        return f"{self.kind} columns"


class ColumnWidths(models.Model):
    """The column widths (px) a user dragged in one list, or in one view of it (crm/web/column_widths.py):
    per user, so a shared view looks as each member left it. Without a row the table sizes itself."""

    change_log_type = "column_widths"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, help_text="The list: a record type's URL segment.")
    view = models.CharField(
        max_length=30, blank=True, help_text="Empty: the list itself; else a built-in view's key or a saved view's id."
    )
    widths = models.JSONField(default=dict, help_text="Column key → width in CSS pixels.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "kind", "view"], name="columnwidths_owner_kind_view")]

    def __str__(self) -> str:
        return f"{self.kind} column widths"


class CalendarFeed(models.Model):
    """A user's secret calendar-subscription URL (crm/web/feeds.py): one per user. Only the SHA-256 of its
    token is stored, as for API tokens; the raw token is shown once. Deleting the row revokes the URL."""

    change_log_type = "calendar_feed"
    change_log_hidden = ("key_hash", "last_used_at")  # a credential's fingerprint; a fetch is no change

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
