"""Orders fed by an outside system (a shop, an ERP), keyed by the sender's (source, external id).

Idempotent: the same key updates the one order, never a second one, also when the same order is sent
twice at once. The unique constraint on (external_source, external_id) decides the race; the loser's
attempt (its customer creation included) rolls back to its savepoint and runs again, and then finds
the winner's order and updates it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from crm.core.errors import Conflict
from crm.orders.models import Order
from crm.orders.services.customers import match_or_create
from crm.orders.services.orders import order_create, order_update
from crm.records.services.common import Saved

ATTEMPTS = 3


def order_upsert_external(*, actor, source: str, external_id: str, data: dict) -> tuple[Saved, bool]:
    """(saved, created). ``data``: the order's fields and ``lines`` (they replace the order's lines),
    and ``customer`` ({email, first_name, last_name, company_name, company_domain}) unless it names
    ``company_id`` / ``contact_id`` itself."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _upsert(actor, source.strip(), external_id.strip(), dict(data))
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise Conflict(
                    f"Order {source}/{external_id} is being written by another request; send it again.",
                    code="external_order_busy",
                ) from None
    raise AssertionError("unreachable")


def _upsert(actor, source: str, external_id: str, data: dict) -> tuple[Saved, bool]:
    customer = data.pop("customer", None)
    if customer:
        data.update({k: v for k, v in match_or_create(actor, customer).items() if v is not None})
    data = {**data, "external_source": source, "external_id": external_id}
    existing = Order.objects.select_for_update().filter(external_source=source, external_id=external_id).first()
    if existing is not None:
        return order_update(existing, actor=actor, data=data), False
    return order_create(actor=actor, data=data), True
