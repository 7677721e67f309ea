from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from crm.core.models import RecordModel
from crm.records.models.tags import Tag


class Pipeline(models.Model):
    change_log_type = "pipeline"  # the object_type of its change-log rows (it is not a record)

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    change_log_type = "stage"  # the object_type of its change-log rows (it is not a record)

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    is_won = models.BooleanField(default=False)
    is_lost = models.BooleanField(default=False)

    class Meta:
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_pipeline_name"),
            models.CheckConstraint(condition=~models.Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name}: {self.name}"

    @property
    def status(self) -> str:
        return DealStatus.WON if self.is_won else DealStatus.LOST if self.is_lost else DealStatus.OPEN


class DealStatus(models.TextChoices):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Deal(RecordModel):
    object_type = "deal"

    name = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    contacts = models.ManyToManyField("records.Contact", through="DealContact", related_name="deals", blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=10, choices=DealStatus.choices, default=DealStatus.OPEN, editable=False)
    expected_close_date = models.DateField(null=True, blank=True)
    probability = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    probability_overridden = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lost_reason = models.CharField(max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    tags = models.ManyToManyField(Tag, blank=True, related_name="deals")

    class Meta:
        indexes = [
            models.Index(fields=["pipeline", "stage", "status"], name="deal_pipeline_stage"),
            models.Index(fields=["owner", "stage", "updated_at"], name="deal_owner_stage"),
            # Covers the forecast (open deals summed by close date and currency): an index-only scan.
            models.Index(
                fields=["status", "expected_close_date", "currency", "amount", "probability"], name="deal_forecast"
            ),
            models.Index(fields=["company"], name="deal_company"),
            models.Index(fields=["name", "id"], name="deal_name"),
        ]

    def __str__(self) -> str:
        return self.name

    snapshot_prefetch = ("tags", "deal_contacts")

    def extra_snapshot(self) -> dict:
        if not self.pk:
            return {"tags": [], "contacts": []}
        return {
            "tags": sorted(t.name for t in self.tags.all()),
            "contacts": sorted(f"{dc.contact_id}:{dc.role}" for dc in self.deal_contacts.all()),
        }


class DealContact(models.Model):
    ROLES = [
        ("decision_maker", "Decision maker"),
        ("champion", "Champion"),
        ("influencer", "Influencer"),
        ("economic_buyer", "Economic buyer"),
        ("technical_buyer", "Technical buyer"),
        ("user", "User"),
        ("other", "Other"),
    ]
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey("records.Contact", on_delete=models.CASCADE, related_name="deal_roles")
    role = models.CharField(max_length=20, choices=ROLES, default="other")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_unique")]


class StageChange(models.Model):
    """One move of a deal between stages (from_stage is empty for the deal's first stage)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stagechange_deal"),
            # Covers the funnel's COUNT(DISTINCT deal_id) GROUP BY to_stage_id: an index-only scan.
            models.Index(fields=["to_stage", "deal"], name="stagechange_to_stage_deal"),
        ]
