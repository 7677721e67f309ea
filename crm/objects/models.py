"""Record types that admins define at run time ("Vehicle", "Subscription") and their records.

All custom records share one table: the values are in RecordModel's ``custom_fields`` JSON column, described
by ``crm.customization.CustomField`` rows whose ``object_type`` is the type's key. No table is created or
altered at run time; each sortable value key gets an expression index (crm/objects/indexes.py), so a
list sorted by a value reads it from an index (docs/architecture.md, "Custom objects").
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from crm.access.querysets import RestrictedQuerySet
from crm.core.models import RecordModel

KEY_PATTERN = r"^[a-z][a-z0-9_]{1,29}$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"


class ObjectType(models.Model):
    """A user-defined record type. Its ``key`` never changes: it is the permission key of its records and
    the object type of their change-log rows and custom field definitions."""

    change_log_type = "object_type"  # the object_type of its change-log rows (it is not a record)

    key = models.CharField(
        max_length=30,
        unique=True,
        validators=[RegexValidator(KEY_PATTERN, "2 to 30 lower-case letters, digits and _, starting with a letter.")],
    )
    singular = models.CharField(max_length=60)
    plural = models.CharField(max_length=60)
    slug = models.CharField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(SLUG_PATTERN, "2 to 40 lower-case letters, digits and -, starting with a letter.")],
        help_text="The URL and API path segment of its records.",
    )
    icon = models.CharField(max_length=40, blank=True)
    colour = models.CharField(
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-f]{6}$", "A colour as #rrggbb (lower-case hex).")],
    )
    description = models.TextField(blank=True, max_length=2000)
    name_field = models.CharField(max_length=50, help_text="The key of the text field that names a record.")
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["plural", "id"]

    def __str__(self) -> str:
        return self.plural

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class CustomRecordQuerySet(RestrictedQuerySet):
    """``restrict()`` applies the role of one type: filter on it first with ``of_type``. Restricting
    records of several types at once is refused, so a hole cannot open by forgetting the type."""

    _type_key: str | None = None

    def of_type(self, object_type: ObjectType) -> CustomRecordQuerySet:
        qs = self.filter(type=object_type)
        qs._type_key = object_type.key
        return qs

    def _clone(self):
        clone = super()._clone()
        clone._type_key = self._type_key
        return clone

    def permission_key(self) -> str:
        if self._type_key is None:
            raise TypeError("Restrict custom records of one type: CustomRecord.objects.of_type(t).restrict(...).")
        return self._type_key


class CustomRecord(RecordModel):
    """One record of a user-defined type. ``name`` copies the value of the type's name field (kept in
    sync by crm/objects/records.py) so lists sort and show it without reading the JSON."""

    type = models.ForeignKey(ObjectType, on_delete=models.PROTECT, related_name="records")
    name = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustomRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "record"
        indexes = [
            models.Index(fields=["type", "name"], name="customrecord_type_name"),
            models.Index(fields=["type", "owner", "updated_at"], name="customrecord_type_owner_upd"),
            models.Index(fields=["type", "updated_at"], name="customrecord_type_updated"),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def object_type(self) -> str:
        """Per record, not per class: the permission and change-log key of its type."""
        return self.type.key


class TypeGeneration(models.Model):
    """One row whose token changes with every write of a type or field definition (same transaction),
    so every process notices, within seconds, that its registry of custom types is out of date
    (crm/objects/registry.py). A new random token, not a counter: a rolled-back write must never
    leave a process holding a stamp that a later write would make current again."""

    token = models.CharField(max_length=32)
