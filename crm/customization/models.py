from django.core.validators import RegexValidator
from django.db import models


class FieldType(models.TextChoices):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    URL = "url"
    EMAIL = "email"
    USER = "user"
    MONEY = "money"  # {"amount": 12.5, "currency": "EUR"}
    PHONE = "phone"  # E.164
    LOOKUP = "lookup"  # the id of a record of ``target`` (or of a user)


class CustomField(models.Model):
    """An admin-defined field; values live in each record's ``custom_fields`` JSON under ``key``."""

    change_log_type = "custom_field"  # the object_type of its change-log rows (it is not a record)

    # A declared record type or a custom object type's key: checked by the service (crm.core.recordtypes
    # .known_types), since custom types are rows and a choices list would need a migration per type.
    object_type = models.CharField(max_length=30)
    key = models.CharField(
        max_length=50,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", "Lower-case letters, digits and _, starting with a letter.")],
    )
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=20, choices=FieldType.choices)
    required = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values for choice fields.")
    help_text = models.CharField(max_length=255, blank=True)
    order = models.PositiveIntegerField(default=0)
    target = models.CharField(max_length=30, blank=True, help_text="A lookup field's type: company, user, ...")
    unique = models.BooleanField(default=False, help_text="No two records of the type hold the same value.")
    searchable = models.BooleanField(default=False, help_text="Part of the record's search text.")
    encrypted = models.BooleanField(
        default=False, help_text="Values stored encrypted (text-like types; not searchable, sortable or unique)."
    )

    class Meta:
        ordering = ["object_type", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["object_type", "key"], name="customfield_type_key")]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.key}"
