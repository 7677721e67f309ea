"""Payments against an invoice, and what they settle: ``paid_total``, ``balance`` and the status.

Rules (docs/invoices.md): a payment is above zero (a refund, marked ``is_refund``, below zero, never more
than was paid) and in the invoice's currency; the payments never
exceed the invoice's amount (an overpayment is refused: the accounting system records a credit
instead); a draft or void invoice takes no new payment. A payment with an ``external_id`` is matched
by it within its invoice (sent again: updated, never a second row). The status of an invoice that is
neither draft nor void follows its payments (open → partially paid → paid); a caller saying "paid"
or "partially_paid" when the payments say otherwise is refused rather than believed."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from crm.audit import changelog
from crm.core import clock
from crm.core.errors import ValidationFailed
from crm.invoices.models import Invoice, InvoiceKind, InvoiceStatus, Payment
from crm.invoices.services import values
from crm.records.services import common

CENT = Decimal("0.01")
DERIVED = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
MAX_PAYMENTS = 1000


def _payment_values(item, invoice: Invoice, path: str, errors: dict) -> dict | None:
    if not isinstance(item, dict):
        errors[path] = "A payment is an object: {date, amount, currency, method, external_id}."
        return None
    before = len(errors)
    out = {
        "is_refund": bool(item.get("is_refund")),
        "date": values.date(item["date"], f"{path}.date", errors) if item.get("date") else clock.now().date(),
        "method": (item.get("method") or "").strip()[:50],
        "external_id": (item.get("external_id") or "").strip(),
    }
    code = values.currency(item["currency"], f"{path}.currency", errors) if item.get("currency") else invoice.currency
    if code and code != invoice.currency:
        errors[f"{path}.currency"] = f"A payment is in its invoice's currency ({invoice.currency}), not {code}."
    out["currency"] = invoice.currency
    out["amount"] = values.amount(
        item.get("amount"),
        f"{path}.amount",
        errors,
        currency=invoice.currency,
        positive=True,
        negative="refund" if out["is_refund"] else "",
    )
    if len(out["external_id"]) > 100:
        errors[f"{path}.external_id"] = "At most 100 characters."
    return None if len(errors) > before else out


def write_payments(invoice: Invoice, items, *, path: str = "payments") -> list[Payment]:
    """Add or update (matched by external id) the payments ``items`` of a saved, locked invoice."""
    if not isinstance(items, list) or len(items) > MAX_PAYMENTS:
        raise ValidationFailed({path: f"A list of at most {MAX_PAYMENTS} payments."})
    errors: dict[str, str] = {}
    prepared = [_payment_values(item, invoice, f"{path}.{i}", errors) for i, item in enumerate(items)]
    seen: dict[str, int] = {}
    for i, p in enumerate(prepared):
        if p and p["external_id"]:
            if p["external_id"] in seen:
                errors[f"{path}.{i}.external_id"] = f"Sent twice (also payment {seen[p['external_id']]})."
            seen.setdefault(p["external_id"], i)
    common.raise_if(errors)
    if invoice.kind == InvoiceKind.CREDIT_NOTE and prepared:
        raise ValidationFailed({path: "A credit note takes no payments (a refund is recorded on the invoice)."})
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) and prepared:
        raise ValidationFailed({path: f"A {invoice.get_status_display().lower()} invoice takes no payments."})
    written = []
    for p in prepared:
        existing = invoice.payments.filter(external_id=p["external_id"]).first() if p["external_id"] else None
        if existing is None:
            written.append(Payment.objects.create(invoice=invoice, **p))
        else:
            for key, value in p.items():
                setattr(existing, key, value)
            existing.save()
            written.append(existing)
    return written


def settle(invoice: Invoice, requested: str | None = None) -> None:
    """Set ``paid_total`` (payments less refunds), ``credited_total`` (its credit notes), ``balance``
    and the status (not saved here). A credit note owes nothing itself: its balance is zero."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        invoice.paid_total = invoice.credited_total = invoice.balance = 0
        return
    paid = (invoice.payments.aggregate(total=Sum("amount"))["total"] if invoice.pk else None) or 0
    credited = -Decimal(_credits(invoice)).quantize(CENT)  # SQLite's sums lose the scale
    if paid < 0:
        raise ValidationFailed(
            {"payments": f"Refunds exceed the payments received: {-paid} {invoice.currency} more than was paid."}
        )
    if paid > invoice.amount:
        raise ValidationFailed(
            {
                "payments": f"Payments of {paid} {invoice.currency} exceed the invoice's {invoice.amount} "
                f"{invoice.currency}: an overpayment is refused (record a credit in the accounting system)."
            }
        )
    if credited > invoice.amount:
        raise ValidationFailed(
            {
                "amount": f"The credit notes of {invoice} total {credited} {invoice.currency}, more than its "
                f"amount of {invoice.amount} {invoice.currency}."
            }
        )
    invoice.paid_total, invoice.credited_total = paid, credited
    invoice.balance = invoice.amount - paid - credited
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return
    settled = paid + credited
    derived = (
        InvoiceStatus.PAID
        if settled >= invoice.amount
        else InvoiceStatus.PARTIALLY_PAID
        if settled
        else InvoiceStatus.OPEN
    )
    if requested in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID) and requested != derived:
        raise ValidationFailed(
            {
                "status": f"{requested} does not match the payments ({paid} of {invoice.amount} "
                f"{invoice.currency} paid): send the payments, the status follows them."
            }
        )
    invoice.status = derived


def _credits(invoice: Invoice):
    """The sum of the invoice's credit notes that count (neither draft nor void): zero or below."""
    if not invoice.pk:
        return 0
    notes = invoice.credit_notes.exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
    return notes.aggregate(total=Sum("amount"))["total"] or 0


@transaction.atomic
def record_payment(invoice: Invoice, *, actor, data: dict, version: int | None = None) -> common.Saved:
    """One payment received (``data``: date, amount, currency, method, external_id); an external id
    the invoice already has updates that payment. Needs the change permission on the invoice."""
    invoice = common.lock_for_write(invoice, actor=actor, action="change", version=version)
    before = changelog.snapshot(invoice)
    write_payments(invoice, [data], path="payment")
    try:
        settle(invoice)
    except ValidationFailed as exc:
        raise ValidationFailed({"payment.amount": exc.fields.get("payments", exc.message)}) from None
    common.save_existing(invoice)
    common.finish_update(invoice, actor, before)
    return common.Saved(invoice)
