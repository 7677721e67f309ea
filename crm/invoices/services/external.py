"""Invoices fed by the accounting system, keyed by the sender's (source, external id).

Idempotent as the order feed (crm/orders/services/external.py): the same key updates the one
invoice, never a second one, also when sent twice at once. The unique constraint on
(external_source, external_id) decides the race; the loser's attempt (its customer creation
included) rolls back to its savepoint and runs again as an update. Payments in the body are matched
by their external id within the invoice (the invoice row is locked, and (invoice, external_id) is
unique), so they are never doubled either."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from crm.core.errors import Conflict
from crm.invoices.models import Invoice
from crm.invoices.services.invoices import invoice_create, invoice_update
from crm.orders.services.customers import match_or_create
from crm.records.services.common import Saved

ATTEMPTS = 3


def invoice_upsert_external(
    *, actor, source: str, external_id: str, data: dict, created: list | None = None
) -> tuple[Saved, bool]:
    """(saved, created). ``data``: the invoice's fields, ``payments`` (each with its ``external_id``)
    and ``customer`` ({email, first_name, last_name, company_name, company_domain}) unless it names
    ``company_id`` / ``contact_id`` itself. ``created`` collects the customers created (an import's
    undo)."""
    for attempt in range(ATTEMPTS):
        made: list = []
        try:
            with transaction.atomic():
                result = _upsert(actor, source.strip(), external_id.strip(), dict(data), made)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise Conflict(
                    f"Invoice {source}/{external_id} is being written by another request; send it again.",
                    code="external_invoice_busy",
                ) from None
            continue
        if created is not None:
            created += made
        return result
    raise AssertionError("unreachable")


def _upsert(actor, source: str, external_id: str, data: dict, made: list) -> tuple[Saved, bool]:
    customer = data.pop("customer", None)
    if customer:
        data.update({k: v for k, v in match_or_create(actor, customer, made).items() if v is not None})
    data = {**data, "external_source": source, "external_id": external_id}
    existing = Invoice.objects.select_for_update().filter(external_source=source, external_id=external_id).first()
    if existing is not None:
        return invoice_update(existing, actor=actor, data=data), False
    return invoice_create(actor=actor, data=data), True
