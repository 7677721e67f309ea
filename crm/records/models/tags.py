from django.db import models
from django.db.models.functions import Lower


class Tag(models.Model):
    change_log_type = "tag"

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, blank=True, help_text="#rrggbb")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "marketing_qualified", "Marketing qualified"
    SQL = "sales_qualified", "Sales qualified"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"


class AddressMixin(models.Model):
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        abstract = True
