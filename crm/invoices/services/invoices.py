"""Invoice writes: create (with payments), update, delete. Every write settles the paid total,
balance and status from the payments (payments.py), and logs and emits as every record write does."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import Conflict
from crm.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from crm.invoices.services import values
from crm.invoices.services.payments import settle, write_payments
from crm.money.currencies import organization_currency
from crm.orders.models import Order
from crm.records.models import Company, Contact
from crm.records.services import common

FIELDS = (
    "number",
    "company",
    "contact",
    "order",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "status",
    "kind",
    "credited_invoice",
    "external_source",
    "external_id",
    "notes",
    "owner",
)
STATUSES = set(InvoiceStatus.values)


def _prepare(data: dict, actor, invoice: Invoice | None) -> dict:
    data, errors = dict(data), {}
    for key in ("issue_date", "due_date", "currency", "status"):  # null: left as it is (or the default)
        if key in data and data[key] is None:
            del data[key]
    common.resolve_related(data, "company", Company, actor, errors)
    common.resolve_related(data, "contact", Contact, actor, errors)
    common.resolve_related(data, "order", Order, actor, errors)
    common.resolve_related(data, "credited_invoice", Invoice, actor, errors)
    kind = data.get("kind") or (invoice.kind if invoice else InvoiceKind.INVOICE)
    if kind not in InvoiceKind.values:
        errors["kind"] = f"One of {', '.join(InvoiceKind.values)}."
    elif invoice is not None and kind != invoice.kind:
        errors["kind"] = f"An invoice's kind stays ({invoice.kind}); send a new document instead."
    common.resolve_user(data, "owner", errors)
    for key in ("number", "external_source", "external_id"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    for key in ("issue_date", "due_date"):
        if key in data:
            data[key] = values.date(data[key], key, errors)
    if "currency" in data:
        data["currency"] = values.currency(data["currency"], "currency", errors)
    if "status" in data and data["status"] not in STATUSES:
        errors["status"] = f"One of {', '.join(InvoiceStatus.values)}."
    if invoice is not None and invoice.status == InvoiceStatus.VOID and data.get("status", "void") != "void":
        errors["status"] = "A void invoice stays void."
    if invoice is not None and data.get("currency") not in (None, invoice.currency) and invoice.payments.exists():
        errors["currency"] = f"The invoice has payments in {invoice.currency}: its currency stays."
    currency = data.get("currency") or (invoice.currency if invoice else organization_currency())
    if "amount" in data or invoice is None:
        negative = "credit note" if kind == InvoiceKind.CREDIT_NOTE else ""
        data["amount"] = values.amount(data.get("amount"), "amount", errors, currency=currency or "", negative=negative)
    common.raise_if(errors)
    return data


def _validate(invoice: Invoice) -> None:
    errors = {}
    if invoice.company_id is None and invoice.contact_id and invoice.contact.company_id:
        invoice.company = invoice.contact.company  # billed to the contact's company
    if invoice.company_id is None:
        errors["company_id"] = "An invoice belongs to a company."
    if invoice.due_date < invoice.issue_date:
        errors["due_date"] = f"The due date ({invoice.due_date}) is before the issue date ({invoice.issue_date})."
    if bool(invoice.external_source) != bool(invoice.external_id):
        errors["external_id"] = "An external id comes with its source, and a source with an id."
    errors.update(_credit_errors(invoice))
    common.raise_if(errors)
    common.full_clean(invoice)


def _credit_errors(invoice: Invoice) -> dict:
    """A credit note credits one invoice of the same company and currency; an invoice credits none."""
    target = invoice.credited_invoice
    if invoice.kind != InvoiceKind.CREDIT_NOTE:
        return {"credited_invoice_id": "Only a credit note credits an invoice."} if target else {}
    if target is None:
        return {"credited_invoice_id": "A credit note names the invoice it credits."}
    if target.kind != InvoiceKind.INVOICE or target.pk == invoice.pk:
        return {"credited_invoice_id": f"{target} is a credit note; a credit note credits an invoice."}
    if target.company_id != invoice.company_id:
        return {"credited_invoice_id": f"{target} is another company's invoice."}
    if target.currency != invoice.currency:
        return {"currency": f"{target} is in {target.currency}; its credit note is too."}
    if target.status == InvoiceStatus.VOID:
        return {"credited_invoice_id": f"{target} is void; it takes no credit note."}
    return {}


def _resettle_credited(actor, *pks) -> None:
    """The credited invoices' balance and status again (a credit note was written or removed), each
    locked and logged; a credit over the invoice's amount fails the write with a message on ``amount``."""
    for pk in sorted({pk for pk in pks if pk}):
        target = Invoice.objects.select_for_update().get(pk=pk)
        before = changelog.snapshot(target)
        settle(target)
        common.save_existing(target)
        common.finish_update(target, actor, before)


@transaction.atomic
def invoice_create(*, actor, data: dict) -> common.Saved:
    """``data``: the invoice's fields (``company_id``, ``amount``, ``currency``, ``issue_date``,
    ``due_date``, ...) and optionally ``payments`` ([{date, amount, currency, method, external_id,
    is_refund}]). A credit note: ``kind`` "credit_note", a negative ``amount`` and ``credited_invoice_id``."""
    common.require(actor, Invoice, "add", {k: v for k, v in data.items() if k != "payments"})
    data = _prepare(data, actor, None)
    invoice = Invoice(currency=organization_currency())
    common.assign(invoice, data, FIELDS)
    if "due_date" not in data:
        invoice.due_date = invoice.issue_date
    if "owner" not in data:
        invoice.owner = invoice.company.owner if invoice.company and invoice.company.owner_id else actor
    common.apply_custom_fields(invoice, data, creating=True)
    _validate(invoice)
    requested = invoice.status
    settle(invoice, None)  # no payments yet: open (or draft / void as asked)
    common.save_new(invoice, actor=actor)
    if data.get("payments"):
        write_payments(invoice, data["payments"])
    settle(invoice, requested)
    invoice.number = invoice.number or f"{'CN' if invoice.kind == InvoiceKind.CREDIT_NOTE else 'INV'}-{invoice.pk:06d}"
    Invoice.objects.filter(pk=invoice.pk).update(
        number=invoice.number, paid_total=invoice.paid_total, balance=invoice.balance, status=invoice.status
    )
    common.finish_create(invoice, actor)
    _resettle_credited(actor, invoice.credited_invoice_id)
    return common.Saved(invoice)


@transaction.atomic
def invoice_update(
    invoice: Invoice, *, actor, data: dict, version: int | None = None, replace_payments: bool = False
) -> common.Saved:
    """Fields given change; ``payments`` given are added or updated (matched by external id), the
    others kept. ``replace_payments`` (an import's undo): the payments become exactly those given."""
    fields = {k: v for k, v in data.items() if k != "payments"}
    invoice = common.lock_for_write(invoice, actor=actor, action="change", version=version, data=fields)
    before = changelog.snapshot(invoice)
    credited_before = invoice.credited_invoice_id
    data = _prepare(data, actor, invoice)
    common.assign(invoice, data, FIELDS)
    common.apply_custom_fields(invoice, data, creating=False)
    _validate(invoice)
    if replace_payments:
        keep = {p.get("external_id") for p in data.get("payments") or [] if p.get("external_id")}
        invoice.payments.exclude(external_id__in=keep).delete()
    if data.get("payments"):
        write_payments(invoice, data["payments"])
    settle(invoice, data.get("status"))
    common.save_existing(invoice)
    common.finish_update(invoice, actor, before)
    _resettle_credited(actor, credited_before, invoice.credited_invoice_id)
    return common.Saved(invoice)


@transaction.atomic
def invoice_delete(invoice: Invoice, *, actor, version: int | None = None) -> None:
    """A credited invoice goes after its credit notes; a credit note's invoice owes its amount again."""
    if invoice.credit_notes.exists():
        raise Conflict(f"{invoice} has credit notes: delete them first.", code="invoice_has_credit_notes")
    credited = invoice.credited_invoice_id
    common.delete_record(invoice, actor=actor, version=version)
    _resettle_credited(actor, credited)
