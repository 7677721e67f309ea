"""Invoices, declared as a record type (docs/adding-a-record-type.md)."""

from crm.core.recordtypes import ApiSpec, RecordField, RecordType, SearchSpec, register
from crm.invoices.api import schemas as s
from crm.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from crm.invoices.services import invoices

F = RecordField


def _text(invoice: Invoice) -> list[str]:
    return [invoice.number, invoice.external_id]


register(
    RecordType(
        object_type="invoice",
        slug="invoices",
        model=Invoice,
        singular="invoice",
        plural="invoices",
        detail_related=("owner", "company", "contact", "order"),
        fields=(
            F("number", "str", "Number", listed=True, sortable=True, searchable=True),
            F("company", "int", "Company", lookup="company_id", listed=True),
            F("contact", "int", "Contact", lookup="contact_id"),
            F("order", "int", "Order", lookup="order_id"),
            F("issue_date", "date", "Issue date", listed=True, sortable=True),
            F("due_date", "date", "Due date", listed=True, sortable=True),
            # No lower bound: a credit note's amount is below zero (the services check the sign by kind).
            F("amount", "decimal", "Amount", listed=True, sortable=True),
            F("currency", "str", "Currency"),
            F("status", "choice", "Status", choices=tuple(InvoiceStatus.choices), listed=True, sortable=True),
            F("kind", "choice", "Kind", choices=tuple(InvoiceKind.choices)),  # fixed once made: not a list cell
            F("credited_invoice", "int", "Credits invoice", lookup="credited_invoice_id"),
            F("paid_total", "decimal", "Paid", read_only=True),
            F("credited_total", "decimal", "Credited", read_only=True),
            F("balance", "decimal", "Balance", listed=True, sortable=True, read_only=True),
            F("notes", "str", "Notes", filterable=False),
            F("external_source", "str", "External source"),
            F("external_id", "str", "External id", searchable=True),
            F("id", "int", "ID", sortable=True, read_only=True),
            F("owner", "int", "Owner", lookup="owner_id"),
            F("created_at", "datetime", "Created", sortable=True, read_only=True),
            F("updated_at", "datetime", "Updated", sortable=True, read_only=True),
        ),
        create=invoices.invoice_create,
        update=invoices.invoice_update,
        delete=invoices.invoice_delete,
        api=ApiSpec(
            out=s.InvoiceOut,
            create_in=s.InvoiceIn,
            update_in=s.InvoicePatch,
            default_sort="-issue_date",
            prefetch=("payments",),
        ),
        search=SearchSpec(text=_text, name_field="number"),
        importer="crm.invoices.importer.InvoiceImporter",
    )
)
