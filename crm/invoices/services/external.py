"""Invoices fed by the accounting system, keyed by the sender's (source, external id): idempotent as
the order feed, also when sent twice at once (crm/core/feeds.py). Payments in the body are matched by
their external id within the invoice (the invoice row is locked, and (invoice, external_id) is
unique), so they are never doubled either."""

from __future__ import annotations

from crm.core.errors import ValidationFailed
from crm.core.feeds import Feed
from crm.invoices.models import Invoice
from crm.invoices.services.invoices import invoice_create, invoice_update
from crm.orders.services.customers import match_or_create
from crm.records.services.common import Saved

FEED = Feed(Invoice, invoice_create, invoice_update, match_or_create, "Invoice", "external_invoice_busy")


def invoice_upsert_external(
    *, actor, source: str, external_id: str, data: dict, created: list | None = None
) -> tuple[Saved, bool]:
    """(saved, created). ``data``: the invoice's fields, ``payments`` (each with its ``external_id``)
    and ``customer`` ({email, first_name, last_name, company_name, company_domain}) unless it names
    ``company_id`` / ``contact_id`` itself. ``created`` collects the customers created (an import's
    undo). A credit note names its invoice by ``credited_external_id`` (the same source's id) or
    ``credited_invoice_id``."""
    data = dict(data)
    credited = data.pop("credited_external_id", None)
    if credited:
        seen = Invoice.objects.restrict(actor, "view").filter(external_source=source.strip(), external_id=credited)
        pk = seen.values_list("pk", flat=True).first()
        if pk is None:
            raise ValidationFailed({"credited_external_id": f"No invoice {source}/{credited} to credit."})
        data["credited_invoice_id"] = pk
    return FEED.upsert(actor=actor, source=source, external_id=external_id, data=data, created=created)
