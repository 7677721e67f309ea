"""Commission plans, their assignment to reps per period, deal splits, and statements.

Amounts are in the organization's currency (crm/money); rates are percentages (``5`` is 5 %). A
statement is never changed once written: a recalculation whose result differs writes the next version
and the older ones stay as its history (crm/commissions/statements.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

RATE = {"max_digits": 7, "decimal_places": 4, "validators": [MinValueValidator(0), MaxValueValidator(100)]}


def _money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class Basis(models.TextChoices):
    DEALS = "deals", "Won deals"
    ORDERS = "orders", "Orders"


class CommissionPlan(models.Model):
    """``base_rate`` is paid from 0 % attainment up to the first tier; each ``PlanTier`` pays its rate on
    the part of the rep's credited amount above its threshold (marginal, like tax brackets)."""

    change_log_type = "commission_plan"

    name = models.CharField(max_length=200, unique=True)
    basis = models.CharField(max_length=10, choices=Basis.choices, default=Basis.DEALS)
    base_rate = models.DecimalField(**RATE)
    cap = _money(null=True, blank=True, validators=[MinValueValidator(0)])  # per period; none: no cap
    clawback_days = models.PositiveIntegerField(default=90, validators=[MaxValueValidator(3650)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def extra_snapshot(self) -> dict:
        """Tiers and category rates in the change log, as one text each."""
        if not self.pk:
            return {}
        return {
            "tiers": [f"{t.threshold}%: {t.rate}%" for t in self.tiers.all()],
            "category_rates": [f"{c.category}: {c.rate}%" for c in self.category_rates.all()],
        }


class PlanTier(models.Model):
    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="tiers")
    threshold = models.DecimalField(max_digits=7, decimal_places=2, validators=[MinValueValidator(0)])  # % of quota
    rate = models.DecimalField(**RATE)

    class Meta:
        ordering = ["threshold"]
        constraints = [models.UniqueConstraint(fields=["plan", "threshold"], name="commission_tier_threshold")]


class CategoryRate(models.Model):
    """Lines of products in ``category`` (crm/products Product.category) are paid at this flat rate."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="category_rates")
    category = models.CharField(max_length=100)
    rate = models.DecimalField(**RATE)

    class Meta:
        ordering = ["category"]
        constraints = [models.UniqueConstraint(fields=["plan", "category"], name="commission_category_rate")]


class PlanAssignment(models.Model):
    """A rep is on one plan for a period (a forecast period: month, quarter or year); a rep's
    assignments never overlap in time, whatever their kinds."""

    change_log_type = "commission_assignment"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, related_name="assignments")
    period_kind = models.CharField(max_length=10)
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive, as crm/forecast/periods.py

    class Meta:
        ordering = ["period_start", "rep_id"]
        indexes = [models.Index(fields=["rep", "period_start"], name="commission_assign_rep")]


class DealSplit(models.Model):
    """One rep's share of a deal's credit. A deal's splits sum to 100; a deal without any is 100 % its owner's."""

    change_log_type = "deal_split"

    deal = models.ForeignKey("records.Deal", on_delete=models.CASCADE, related_name="commission_splits")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    percent = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["deal", "id"]
        constraints = [models.UniqueConstraint(fields=["deal", "user"], name="deal_split_user")]


class Adjustment(models.Model):
    """A manager's manual line on a rep's statement (positive or negative), with the reason."""

    change_log_type = "commission_adjustment"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=10)
    period_start = models.DateField()
    amount = _money()
    note = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["rep", "period_kind", "period_start"], name="commission_adj_rep")]


class Statement(models.Model):
    """One version of a rep's statement for one period. ``fingerprint`` hashes the lines and totals: a
    recalculation with the same fingerprint as the latest version writes nothing."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(CommissionPlan, null=True, on_delete=models.SET_NULL, related_name="+")
    plan_name = models.CharField(max_length=200)
    period_kind = models.CharField(max_length=10)
    period_start = models.DateField()
    period_key = models.CharField(max_length=20)
    version = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    quota = _money(null=True)
    credited = _money()  # the rep's credited amount (after splits): what attainment is measured on
    attainment = models.DecimalField(max_digits=9, decimal_places=2, null=True)  # % of quota
    earned = _money()  # deal/order lines
    clawbacks = _money()
    adjustments = _money()
    before_cap = _money()
    total = _money()
    cap_note = models.CharField(max_length=300, blank=True)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-period_start", "rep_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "period_kind", "period_start", "version"], name="statement_version")
        ]


class LineKind(models.TextChoices):
    DEAL = "deal", "Deal"
    ORDER = "order", "Order"
    CLAWBACK = "clawback", "Clawback"
    ADJUSTMENT = "adjustment", "Adjustment"


class StatementLine(models.Model):
    """``source_id`` is the deal's or order's id as a plain number: a line outlives its record, and
    the recalculation after a delete finds the statements that named it."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=LineKind.choices)
    source_type = models.CharField(max_length=10, blank=True)  # deal, order, or empty (adjustment)
    source_id = models.BigIntegerField(null=True)
    description = models.CharField(max_length=500)
    date = models.DateField(null=True)
    original_amount = _money(null=True)
    original_currency = models.CharField(max_length=3, blank=True)
    base_amount = _money(null=True)  # in the organization's currency, at the date's rate
    split_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    rule = models.CharField(max_length=1000)
    commission = _money()

    class Meta:
        ordering = ["statement", "position"]
        indexes = [models.Index(fields=["source_type", "source_id"], name="statement_line_source")]
