from django.conf import settings
from django.db import models

from crm.core.models import RecordModel
from crm.records.models.tags import Tag


class LeadStatus(models.TextChoices):
    NEW = "new"
    WORKING = "working"
    NURTURING = "nurturing"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"


class Lead(RecordModel):
    """An unqualified prospect; converting it makes a contact, a company and maybe a deal."""

    object_type = "lead"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=201, editable=False)
    company_name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    website = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualified_reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=100, blank=True)
    score = models.IntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="leads")
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_contact = models.ForeignKey(
        "records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )
    converted_company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )
    converted_deal = models.ForeignKey(
        "records.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="lead_name"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),
            models.Index(fields=["status", "id"], name="lead_status"),
            models.Index(fields=["email"], name="lead_email"),
        ]

    def __str__(self) -> str:
        return self.name or self.company_name or self.email or f"Lead {self.pk}"

    snapshot_prefetch = ("tags",)

    def extra_snapshot(self) -> dict:
        return {"tags": sorted(t.name for t in self.tags.all()) if self.pk else []}
