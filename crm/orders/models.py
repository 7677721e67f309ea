"""Orders, their lines, the clawback marks commissions read, and per-customer purchase stats.

An order belongs to a company and/or a contact (and optionally the deal it came from). Who sees it:
its owner's scope (own, team, all), as deals; and for reading, any order of a company or contact the
user can see, so a customer's purchase history is complete on every page that shows the customer.
Changing or deleting stays within the role's scope."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.access.querysets import owner_q
from crm.core.models import RecordModel

READS = ("view", "export")


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    FULFILLED = "fulfilled", "Fulfilled"
    INVOICED = "invoiced", "Invoiced"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"


# Orders that do not count as purchases (totals, counts, first and last purchase).
VOID = (OrderStatus.CANCELLED, OrderStatus.RETURNED)


class TaxMode(models.TextChoices):
    EXCLUSIVE = "exclusive", "Prices before tax"
    INCLUSIVE = "inclusive", "Prices include tax"


def _money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=2, default=0, **kwargs)


class Order(RecordModel):
    object_type = "order"

    number = models.CharField(max_length=64, blank=True)
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    contact = models.ForeignKey(
        "records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    deal = models.ForeignKey("records.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    order_date = models.DateField(default=timezone.localdate)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)
    tax_mode = models.CharField(max_length=10, choices=TaxMode.choices, default=TaxMode.EXCLUSIVE)
    external_source = models.CharField(max_length=50, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    # Computed by the services from the lines (crm/quotes/totals.py), never written by callers.
    subtotal = _money(editable=False)
    discount_total = _money(editable=False)
    tax_total = _money(editable=False)
    total = _money(editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # The feed's idempotency: one order per sender's id (crm/orders/services/external.py).
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="order_external_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "order_date"], name="order_company_date"),
            models.Index(fields=["contact", "order_date"], name="order_contact_date"),
            models.Index(fields=["owner", "updated_at"], name="order_owner_updated"),
            models.Index(fields=["number"], name="order_number"),
            models.Index(fields=["deal"], name="order_deal"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number or self.pk}"

    snapshot_prefetch = ("lines",)

    def extra_snapshot(self) -> dict:
        """The lines, one text each, so the change log shows what a write changed in them."""
        if not self.pk:
            return {"lines": []}
        return {"lines": [line.summary() for line in self.lines.all()]}

    @classmethod
    def visibility_q(cls, policy, action: str = "view") -> Q | None:
        own = owner_q(policy, cls.owner_field)
        if own is None or action not in READS:
            return own
        from crm.records.models import Company, Contact  # the records app loads first; no cycle at import

        q = own
        for key, model in (("company", Company), ("contact", Contact)):
            if policy.allows(model.object_type, "view"):
                seen = model.visibility_q(policy, "view")
                q |= Q(**{f"{key}__isnull": False}) if seen is None else Q(**{f"{key}__in": model.objects.filter(seen)})
        return q


class OrderLine(models.Model):
    """One line: a product (optional) or a description, quantity × unit price less a discount, taxed.
    The amounts are the totals engine's (crm/quotes/totals.py), stored so lists and sums need no recompute."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    description = models.CharField(max_length=500, blank=True)
    # Four places, as a quote line's (crm/quotes/models.py), so an accepted quote's lines are copied
    # exactly (order_from_quote); the API, the feed and the import still take two.
    quantity = models.DecimalField(max_digits=16, decimal_places=4)
    unit_price = models.DecimalField(max_digits=20, decimal_places=4)
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    # An amount off the line instead of a percent: a quote line's discount plus its share of the quote's
    # order discount (orders have no order discount of their own).
    discount_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    is_credit = models.BooleanField(default=False)  # a return or credit: negative quantity or price allowed
    net = _money()
    tax = _money()
    total = _money()

    class Meta:
        ordering = ["order", "position", "id"]

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        what = self.description or (str(self.product_id) if self.product_id else "")
        credit = " credit" if self.is_credit else ""
        off = f"−{self.discount_amount}" if self.discount_amount is not None else f"−{self.discount_percent}%"
        return f"{what}: {self.quantity} × {self.unit_price} {off} +{self.tax_rate}%{credit}"


class Clawback(models.Model):
    """A cancelled or returned order that came from a deal: the commissions work reads the pending
    ones (``settled_at`` empty) and settles them. One per order and reason."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="clawbacks")
    deal = models.ForeignKey("records.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=20, choices=[(s.value, s.label) for s in VOID])
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "reason"], name="clawback_order_reason")]


class PurchaseStats(models.Model):
    """A customer's purchases summed (crm/orders/stats.py, refreshed by every order write): what the
    filterable fields total spent, last order date and order count of companies and contacts read
    (joined through ``purchase_stats``). Totals are in the organization's currency at each order's
    date; orders whose currency has no rate for their date are counted in ``unconverted``."""

    company = models.OneToOneField(
        "records.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="purchase_stats"
    )
    contact = models.OneToOneField(
        "records.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="purchase_stats"
    )
    order_count = models.PositiveIntegerField(default=0)
    total_spent = _money()
    currency = models.CharField(max_length=3)
    first_order_date = models.DateField(null=True, blank=True)
    last_order_date = models.DateField(null=True, blank=True)
    unconverted = models.PositiveIntegerField(default=0)
    # The purchase-history card's breakdowns, computed with the figures above (crm/orders/stats.py):
    # per year [{year, count, total, unconverted: [[currency, amount]]}] and the most bought products
    # [{product_id, quantity, orders}], so a customer with 10,000 orders costs the card one row.
    # Null: not computed yet (a row from before they existed); the card then sums the orders itself.
    years = models.JSONField(null=True, blank=True, editable=False)
    products = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, contact__isnull=True)
                | Q(company__isnull=True, contact__isnull=False),
                name="purchase_stats_one_customer",
            )
        ]
