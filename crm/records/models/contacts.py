from django.conf import settings
from django.db import models

from crm.core.models import RecordModel
from crm.records.models.tags import AddressMixin, LifecycleStage, Tag


class Contact(RecordModel, AddressMixin):
    object_type = "contact"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=201, editable=False, help_text="First and last name, for search and sort.")
    title = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True, help_text="Primary email (normalized).")
    phone = models.CharField(max_length=20, blank=True, help_text="Primary phone (E.164).")
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifecycle_stage = models.CharField(max_length=30, choices=LifecycleStage.choices, blank=True)
    source = models.CharField(max_length=100, blank=True)
    email_opt_in = models.BooleanField(default=False, help_text="Consents to marketing email.")
    email_opt_in_at = models.DateTimeField(null=True, blank=True)
    email_opt_in_source = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="contact_name"),
            models.Index(fields=["owner", "name"], name="contact_owner_name"),
            models.Index(fields=["owner", "updated_at"], name="contact_owner_updated"),
            models.Index(fields=["company"], name="contact_company"),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(fields=["updated_at", "id"], name="contact_updated"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Contact {self.pk}"

    snapshot_prefetch = ("tags", "emails", "phones")

    def extra_snapshot(self) -> dict:
        if not self.pk:
            return {"tags": [], "emails": [], "phones": []}
        return {
            "tags": sorted(t.name for t in self.tags.all()),
            "emails": [f"{e.email} ({e.kind})" for e in self.emails.all()],
            "phones": [f"{p.number} ({p.kind})" for p in self.phones.all()],
        }


class ContactEmail(models.Model):
    KINDS = [("work", "Work"), ("home", "Home"), ("other", "Other")]
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254, db_index=True)
    kind = models.CharField(max_length=10, choices=KINDS, default="work")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    KINDS = [("work", "Work"), ("mobile", "Mobile"), ("home", "Home"), ("other", "Other")]
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, db_index=True, help_text="E.164")
    kind = models.CharField(max_length=10, choices=KINDS, default="work")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.number


class PastCompany(models.Model):
    """A company the contact used to work at, kept when their company changes."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="past_companies")
    company = models.ForeignKey("records.Company", on_delete=models.CASCADE, related_name="past_contacts")
    title = models.CharField(max_length=150, blank=True)
    ended_at = models.DateTimeField()

    class Meta:
        ordering = ["-ended_at"]
