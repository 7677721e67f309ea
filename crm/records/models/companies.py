from django.conf import settings
from django.db import models

from crm.core.models import RecordModel
from crm.records.models.tags import AddressMixin, LifecycleStage, Tag


class CompanySize(models.TextChoices):
    """Employees, in ranges; the labels are what people read (without them Django shows "S11")."""

    S1 = "1-10", "1–10"
    S11 = "11-50", "11–50"
    S51 = "51-200", "51–200"
    S201 = "201-500", "201–500"
    S501 = "501-1000", "501–1,000"
    S1001 = "1001-5000", "1,001–5,000"
    S5001 = "5001+", "5,001+"


class Company(RecordModel, AddressMixin):
    object_type = "company"

    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True, help_text="Primary domain; all are in domains.")
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=20, choices=CompanySize.choices, blank=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    website = models.URLField(max_length=500, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifecycle_stage = models.CharField(max_length=30, choices=LifecycleStage.choices, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")

    class Meta:
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["name", "id"], name="company_name"),
            models.Index(fields=["owner", "name"], name="company_owner_name"),
            models.Index(fields=["domain"], name="company_domain"),
            models.Index(fields=["updated_at", "id"], name="company_updated"),
        ]

    def __str__(self) -> str:
        return self.name

    snapshot_prefetch = ("tags", "domains")

    def extra_snapshot(self) -> dict:
        return {
            "tags": sorted(t.name for t in self.tags.all()) if self.pk else [],
            "domains": sorted(d.domain for d in self.domains.all()) if self.pk else [],
        }


class CompanyDomain(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=255, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "domain"], name="company_domain_unique")]

    def __str__(self) -> str:
        return self.domain
