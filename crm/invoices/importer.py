"""The invoice import (CSV/XLSX): one row per payment, the invoice's columns repeated on each of its
rows (an invoice with no payment is one row with the payment columns empty), grouped into invoices as
crm/dataio/grouped.py says (a group is one invoice with its payments, all or nothing; undo deletes the
invoices the batch created, with the customers it created for them, and restores an updated invoice's
fields and payments from its group's first row). Payments are matched by their Payment ID within the
invoice (a payment row without one is keyed by its place among the invoice's payment rows, ``row-1``,
``row-2``…, so the same file imported again matches the same payments)."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from crm.core.errors import ServiceError, ValidationFailed
from crm.dataio.grouped import DEFAULT_SOURCE, GroupedImporter
from crm.dataio.importers.base import boolean, choice
from crm.dataio.models import RowAction
from crm.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from crm.invoices.services.invoices import invoice_create, invoice_update
from crm.invoices.services.values import NEGATIVE_HINT
from crm.orders.importer import CUSTOMER
from crm.orders.services.customers import match_or_create
from crm.records.services.common import Saved

HEADER = (
    "external_source",
    "external_id",
    "number",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "status",
    "kind",
    "credited_id",
    "notes",
    *CUSTOMER,
)
PAYMENT = ("payment_id", "payment_date", "payment_amount", "payment_method", "payment_refund")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str) -> dt.date:
    try:
        if DATE.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).")


def _amount(value: str) -> decimal.Decimal:
    """An amount, negative too (a credit note, a refund: the service says when a sign is allowed)."""
    cleaned = re.sub(r"[\s,$€£]", "", value)
    try:
        amount = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not an amount.") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount.")
    return amount


def _update(record, *, actor, data, version=None):
    """Undo: the invoice's fields and payments as they were (its group's first row); other rows carry nothing."""
    if not data:
        return Saved(record)
    return invoice_update(record, actor=actor, data=data, version=version, replace_payments=True)


class InvoiceImporter(GroupedImporter):
    model = Invoice
    noun = "invoice"
    key_hint = "map an invoice id"
    head_columns = HEADER
    customer_columns = CUSTOMER
    match_customer = staticmethod(match_or_create)
    create = staticmethod(invoice_create)
    update = staticmethod(_update)
    synonyms = {
        "external_source": ["source", "system"],
        "external_id": ["invoice id", "external id", "invoice ref", "reference"],
        "number": ["invoice number", "invoice no", "invoice #"],
        "issue_date": ["date", "issued", "invoice date", "issued on"],
        "due_date": ["due", "due on", "payment due"],
        "amount": ["total", "invoice amount", "amount due"],
        "currency": ["currency code"],
        "status": ["invoice status"],
        "kind": ["type", "document type", "invoice type"],
        "credited_id": ["credits", "credited invoice", "credited invoice id", "original invoice"],
        "notes": ["note", "comment"],
        "customer_email": ["email", "customer email", "e-mail"],
        "first_name": ["first name", "given name"],
        "last_name": ["last name", "surname", "family name"],
        "company_name": ["company", "organization", "account", "customer"],
        "company_domain": ["domain", "website"],
        "payment_id": ["payment id", "payment ref", "payment reference"],
        "payment_date": ["payment date", "paid on"],
        "payment_amount": ["paid", "payment", "payment amount", "amount paid"],
        "payment_method": ["method", "payment method"],
        "payment_refund": ["refund", "is refund"],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_rows: dict[str, int] = {}  # group key -> payment rows seen (their default ids)

    @classmethod
    def delete_many(cls, pks: list[int], *, actor, force: bool = False) -> int:
        """Every row of an invoice names it: one delete per invoice, counted per row."""
        from crm.records.services import bulk

        distinct = sorted(set(pks))
        bulk.delete_many(Invoice, distinct, actor=actor, force=force)
        gone = set(distinct) - set(Invoice.objects.filter(pk__in=distinct).values_list("pk", flat=True))
        return sum(1 for pk in pks if pk in gone)

    def parse(self, cells: list[str]) -> tuple[dict, dict, dict]:
        """(invoice columns, payment, errors by column) of one row."""
        head, payment, errors = {}, {}, {}
        for i, target in self.targets:
            value = cells[i].strip() if i < len(cells) else ""
            if not target or not value:
                continue
            try:
                if target in ("issue_date", "due_date"):
                    head[target] = _date(value)
                elif target == "amount":
                    head[target] = _amount(value)
                elif target == "status":
                    head[target] = choice(value, InvoiceStatus)
                elif target == "kind":
                    head[target] = choice(value, InvoiceKind)
                elif target == "currency":
                    head[target] = value.upper()
                elif target in HEADER:
                    head[target] = value
                elif target == "payment_date":
                    payment["date"] = _date(value)
                elif target == "payment_amount":
                    payment["amount"] = _amount(value)
                elif target == "payment_refund":
                    payment["is_refund"] = boolean(value)
                elif target == "payment_method":
                    payment["method"] = value
                elif target == "payment_id":
                    payment["external_id"] = value
            except ValueError as exc:
                errors[self.header[i]] = str(exc)
        # A negative amount without its flag, on the cell (the service's message: values.NEGATIVE_HINT).
        if payment.get("amount", 0) < 0 and not payment.get("is_refund") and "payment_amount" in self.column_of:
            errors.setdefault(self.column_of["payment_amount"], NEGATIVE_HINT[True])
        if head.get("amount", 0) < 0 and head.get("kind") != InvoiceKind.CREDIT_NOTE:
            errors.setdefault(self.column_of["amount"], NEGATIVE_HINT[False])
        return head, payment, errors

    def items(self, key: str, rows) -> list[dict | None]:
        """Each row's payment (None: the row has none), keyed by its id or its place among the invoice's."""
        out = []
        for _, _, _, payment, _ in rows:
            if not payment:
                out.append(None)
                continue
            self.payment_rows[key] = self.payment_rows.get(key, 0) + 1
            out.append({"external_id": f"row-{self.payment_rows[key]}", **payment})
        return out

    def spread(self, rows, exc: ServiceError) -> dict[int, dict]:
        """A service's errors on the rows they are about: ``payments.<i>.<field>`` on the i-th payment's row."""
        fields = exc.fields or {"row": exc.message}
        with_payment = [n for n, (*_, payment, _) in enumerate(rows) if payment]
        errors: dict[int, dict] = {}
        for name, message in fields.items():
            m = re.match(r"^payments\.(\d+)\.(\w+)$", name)
            if m and int(m[1]) < len(with_payment):
                column = self.column_of.get(f"payment_{m[2]}" if m[2] != "external_id" else "payment_id", name)
                errors.setdefault(with_payment[int(m[1])], {})[column] = message
                continue
            target = {
                "email": "customer_email",
                "payments": "payment_amount",
                "credited_invoice_id": "credited_id",
            }.get(name.removeprefix("customer."), name.removeprefix("customer."))
            for n in range(len(rows)):
                errors.setdefault(n, {})[
                    self.column_of.get(target, self.column_of.get(target.removesuffix("_id"), name))
                ] = message
        return errors

    def write(self, key: str, head: dict, payments: list, created: list) -> tuple[str, Invoice, dict | None]:
        fields = ("number", "issue_date", "due_date", "amount", "currency", "status", "kind", "notes")
        data = self.keyed(head, fields, created)
        if head.get("credited_id"):
            data["credited_invoice_id"] = self._credited(head)
        data["payments"] = [p for p in payments if p]
        existing = self.existing(key, data)
        if existing is not None and existing.pk == self.written.get(key):  # the rest of a group split over chunks
            invoice_update(existing, actor=self.actor, data={"payments": data["payments"]})
            return RowAction.UPDATE, existing, None
        if existing is not None:
            self.refuse_update(existing)
            before = _before(existing, data)
            return RowAction.UPDATE, invoice_update(existing, actor=self.actor, data=data).obj, before
        return RowAction.CREATE, invoice_create(actor=self.actor, data=data).obj, None

    def _credited(self, head: dict) -> int:
        """The invoice a credit note's row credits: its id in the same source (this file's or before)."""
        source = head.get("external_source") or DEFAULT_SOURCE
        seen = Invoice.objects.restrict(self.actor, "view")
        pk = seen.filter(external_source=source, external_id=head["credited_id"]).values_list("pk", flat=True).first()
        if pk is None:
            raise ValidationFailed({"credited_id": f"No invoice {head['credited_id']!r} to credit."})
        return pk


def _before(invoice: Invoice, data: dict) -> dict:
    """What an update replaces, as JSON, so undo can send it back through invoice_update."""
    before = {}
    for key in data:
        if key in ("payments", "company_id", "contact_id"):
            continue
        value = getattr(invoice, key)
        before[key] = value.isoformat() if hasattr(value, "isoformat") else str(value) if key == "amount" else value
    before["company_id"], before["contact_id"] = invoice.company_id, invoice.contact_id
    before["payments"] = [
        {
            "external_id": p.external_id,
            "date": p.date.isoformat(),
            "amount": str(p.amount),
            "method": p.method,
            "is_refund": p.is_refund,
        }
        for p in invoice.payments.all()
    ]
    return before
