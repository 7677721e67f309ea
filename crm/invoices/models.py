"""Invoices and the payments received against them.

An invoice belongs to a company (and optionally one of its contacts and the order it bills). Who sees
it: its owner's scope, as orders; and for reading, any invoice of a company the user can see, so a
rep sees the credit position of every customer they work with. Changing or deleting stays within
the role's scope.

``paid_total`` and ``balance`` are kept by the services (services/payments.py ``settle``) on every
write, so a company's balance and overdue amounts are sums over indexed columns, not over payments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.access.querysets import owner_q
from crm.core.models import RecordModel

READS = ("view", "export")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


# Invoices a customer owes money on (when their balance is above zero).
OWING = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


def _money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class Invoice(RecordModel):
    object_type = "invoice"

    number = models.CharField(max_length=64, blank=True)
    company = models.ForeignKey(
        "records.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    contact = models.ForeignKey(
        "records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    issue_date = models.DateField(default=timezone.localdate)
    due_date = models.DateField(default=timezone.localdate)
    amount = _money(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)
    # A credit note: a negative amount against the invoice it credits (docs/invoices.md); it owes nothing
    # itself, it lowers the credited invoice's balance.
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="credit_notes"
    )
    external_source = models.CharField(max_length=50, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    # Kept by the services from the payments and credit notes, never written by callers.
    paid_total = _money(default=0, editable=False)
    credited_total = _money(default=0, editable=False)
    balance = _money(default=0, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # The feed's idempotency: one invoice per sender's id (crm/invoices/services/external.py).
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="invoice_external_unique",
            ),
        ]
        indexes = [
            # The credit card: a company's owing invoices by due date.
            models.Index(fields=["company", "status", "due_date"], name="invoice_company_status_due"),
            models.Index(fields=["owner", "updated_at"], name="invoice_owner_updated"),
            models.Index(fields=["number"], name="invoice_number"),
            models.Index(fields=["order"], name="invoice_order"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number or self.pk}"

    snapshot_prefetch = ("payments",)

    def extra_snapshot(self) -> dict:
        """The payments, one text each, so the change log shows what a write changed in them."""
        if not self.pk:
            return {"payments": []}
        return {"payments": [p.summary() for p in self.payments.all()]}

    def overdue_days(self, today) -> int:
        """Days past the due date while money is owed (0: not overdue)."""
        if self.status not in OWING or self.balance <= 0 or self.due_date >= today:
            return 0
        return (today - self.due_date).days

    @classmethod
    def visibility_q(cls, policy, action: str = "view") -> Q | None:
        own = owner_q(policy, cls.owner_field)
        if own is None or action not in READS:
            return own
        from crm.records.models import Company  # the records app loads first; no cycle at import

        if not policy.allows(Company.object_type, "view"):
            return own
        seen = Company.visibility_q(policy, "view")
        return own | (Q(company__isnull=False) if seen is None else Q(company__in=Company.objects.filter(seen)))


class Payment(models.Model):
    """Money received against an invoice, in the invoice's currency. ``external_id`` is the
    accounting system's id of the payment: unique per invoice, so a feed sent again updates it."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    date = models.DateField(default=timezone.localdate)
    amount = _money()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=50, blank=True)
    is_refund = models.BooleanField(default=False)
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["invoice", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "external_id"], condition=~Q(external_id=""), name="payment_external_unique"
            ),
            # A refund is a payment given back: negative, and only then.
            models.CheckConstraint(
                condition=Q(is_refund=False, amount__gt=0) | Q(is_refund=True, amount__lt=0),
                name="payment_amount_sign",
            ),
        ]

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        ref = f" [{self.external_id}]" if self.external_id else ""
        method = f" by {self.method}" if self.method else ""
        refund = " refund" if self.is_refund else ""
        return f"{self.date}: {self.amount} {self.currency}{refund}{method}{ref}"
