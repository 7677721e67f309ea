"""The organization's branding on quotes: one row (``Branding.current()``), written by
crm/quotes/branding.py. Quotes themselves come later and read it through ``branding_values``."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is # and six hex digits, e.g. #1f4e79.")
DEFAULT_COLOUR = "#1f4e79"
SINGLETON = 1


class Branding(models.Model):
    change_log_type = "branding"  # the object_type of its change-log rows (it is not a record)

    organization_name = models.CharField(max_length=200, default="Our company")
    logo = models.CharField(max_length=64, blank=True, default="", editable=False)  # a file name under var/branding/
    primary_colour = models.CharField(max_length=7, default=DEFAULT_COLOUR, validators=[HEX_COLOUR])
    address = models.TextField(max_length=1000, blank=True, default="")
    tax_ids = models.TextField(max_length=500, blank=True, default="", help_text="e.g. VAT DE123456789, one per line")
    default_terms = models.TextField(max_length=5000, blank=True, default="")
    footer_note = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=SINGLETON), name="branding_singleton")]

    def __str__(self) -> str:
        return f"Branding of {self.organization_name}"

    @classmethod
    def current(cls) -> Branding:
        """The stored row, or the defaults (unsaved) before an admin first saves one."""
        return cls.objects.filter(pk=SINGLETON).first() or cls(pk=SINGLETON)
