"""The organization's branding on quotes (one row, ``Branding.current()``, written by
crm/quotes/branding.py), and quotes: their versions, lines, number counter and per-pipeline settings."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from crm.access.querysets import owner_q
from crm.core.models import RecordModel

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


# --- quotes ----------------------------------------------------------------------------------------
# A quote belongs to a deal (and its company and contact), prices from a price book in one currency,
# and has versions 1..n: the latest is the one being edited (a draft) or the one sent; sending
# freezes it with its PDF, revising copies it into a new draft. Amounts are stored as totals.py
# computed them, so lists and reports read them without recomputing.

MONEY = {"max_digits": 20, "decimal_places": 4}  # up to 4 minor units (totals.py accepts 0..4)
RATE = {"max_digits": 7, "decimal_places": 4}  # a percent, 0..100


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class TaxMode(models.TextChoices):
    EXCLUSIVE = "exclusive", "Prices before tax"
    INCLUSIVE = "inclusive", "Prices include tax"


class QuoteCounter(models.Model):
    """The last number given out per year (locked with select_for_update): numbers are never reused,
    not even a deleted quote's, because the counter only goes up."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Quote(RecordModel):
    object_type = "quote"

    number = models.CharField(max_length=40, unique=True, editable=False)
    title = models.CharField(max_length=200, blank=True)
    deal = models.ForeignKey("records.Deal", null=True, on_delete=models.SET_NULL, related_name="quotes")
    company = models.ForeignKey("records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    price_book = models.ForeignKey(
        "products.PriceBook", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT, editable=False)
    current_version = models.PositiveIntegerField(default=1, editable=False)
    # The latest version's, copied for lists, filters and the expiry job.
    valid_until = models.DateField(null=True, blank=True)
    total = models.DecimalField(**MONEY, default=0, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The customer's answer on the acceptance page (or an accept/decline by a user).
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_by_name = models.CharField(max_length=200, blank=True, editable=False)
    answered_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    decline_reason = models.TextField(max_length=2000, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "updated_at"], name="quote_owner_updated"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    @classmethod
    def visibility_q(cls, policy, action: str = "view"):
        """Own-scope like deals: the quotes the user (or their team) owns, and the quotes of the deals
        they can see, so a rep sees every quote of their deals whoever drafted it."""
        owned = owner_q(policy, "owner")
        if owned is None:
            return None
        return owned | owner_q(policy, "deal__owner")

    def latest(self) -> QuoteVersion:
        return self.versions.get(number=self.current_version)

    def extra_snapshot(self) -> dict:
        """The latest version's lines and terms, so the change log shows what a write changed."""
        version = self.versions.filter(number=self.current_version).first() if self.pk else None
        if version is None:
            return {"lines": []}
        lines = [
            f"{x.description} × {x.quantity.normalize():f} @ {x.unit_price.normalize():f}"
            + (f" −{x.discount_percent.normalize():f}%" if x.discount_percent is not None else "")
            + (f" −{x.discount_amount.normalize():f}" if x.discount_amount is not None else "")
            + f" tax {x.tax_rate.normalize():f}%"
            for x in version.lines.all()
        ]
        return {"lines": lines, "tax_mode": version.tax_mode, "terms": version.terms}


class QuoteVersion(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    tax_mode = models.CharField(max_length=10, choices=TaxMode.choices, default=TaxMode.EXCLUSIVE)
    order_discount_percent = models.DecimalField(**RATE, null=True, blank=True)
    order_discount_amount = models.DecimalField(**MONEY, null=True, blank=True)
    shipping = models.DecimalField(**MONEY, default=0)
    shipping_tax_rate = models.DecimalField(**RATE, default=0)
    terms = models.TextField(max_length=10000, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    # Computed by totals.py on every change of the version or its lines.
    subtotal = models.DecimalField(**MONEY, default=0)
    discount_total = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY, default=0)
    sent_at = models.DateTimeField(null=True, blank=True)  # set: frozen
    pdf = models.CharField(max_length=80, blank=True)  # a file name under var/quotes/ (services/documents.py)
    # The order made from this version once accepted (services/ordering.py): one per version.
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="quote_version"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["quote", "number"], name="quote_version_unique")]
        ordering = ["quote", "number"]

    def __str__(self) -> str:
        return f"{self.quote_id} v{self.number}"


class QuoteLine(models.Model):
    version = models.ForeignKey(QuoteVersion, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(**MONEY)
    discount_percent = models.DecimalField(**RATE, null=True, blank=True)
    discount_amount = models.DecimalField(**MONEY, null=True, blank=True)
    tax_rate = models.DecimalField(**RATE, default=0)
    is_credit = models.BooleanField(default=False)
    # Computed (totals.py): after line and order discounts, its tax, and what the customer pays for it.
    net = models.DecimalField(**MONEY, default=0)
    tax = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["version", "position", "id"]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class QuoteSettings(models.Model):
    """Per pipeline: does accepting a quote move its deal to the pipeline's won stage? (Kept here, not
    on the pipeline, so crm/records has no column for quotes.)"""

    change_log_type = "quote_settings"

    pipeline = models.OneToOneField("records.Pipeline", on_delete=models.CASCADE, related_name="quote_settings")
    win_deal_on_accept = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Quote settings of pipeline {self.pipeline_id}"
