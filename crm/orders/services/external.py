"""Orders fed by an outside system (a shop, an ERP), keyed by the sender's (source, external id):
idempotent, also when the same order is sent twice at once (crm/core/feeds.py)."""

from __future__ import annotations

from crm.core.feeds import Feed
from crm.orders.models import Order
from crm.orders.services.customers import match_or_create
from crm.orders.services.orders import order_create, order_update
from crm.records.services.common import Saved

FEED = Feed(Order, order_create, order_update, match_or_create, "Order", "external_order_busy")


def order_upsert_external(*, actor, source: str, external_id: str, data: dict) -> tuple[Saved, bool]:
    """(saved, created). ``data``: the order's fields and ``lines`` (they replace the order's lines),
    and ``customer`` ({email, first_name, last_name, company_name, company_domain}) unless it names
    ``company_id`` / ``contact_id`` itself."""
    return FEED.upsert(actor=actor, source=source, external_id=external_id, data=data)
