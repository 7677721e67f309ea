"""A customer's purchase history (a company's or a contact's): its orders, totals per year converted
to the organization's currency at each order's date, first and last purchase, products bought.

The figures come from the customer's ``PurchaseStats`` row (crm/orders/stats.py, rewritten by every
order write), so a customer with 10,000 orders costs the card what one without does (docs/benchmarks.md).
That row sums all the customer's orders, which are exactly the orders this user may read here: an
order of a company or contact the user sees is readable (models.py), and the card is shown only for a
record the user sees and with the order grant. A row from before the breakdowns existed (``years``
null) is summed from the orders, grouped in the database. Cancelled and returned orders are listed
but not counted."""

from __future__ import annotations

from decimal import Decimal

from crm.money.currencies import organization_currency
from crm.orders.models import Order, PurchaseStats
from crm.orders.stats import products_bought, tally
from crm.products.models import Product

RECENT = 10


def history(user, record) -> dict:
    key = "company" if record.object_type == "company" else "contact"
    orders = Order.objects.restrict(user).filter(**{key: record})
    kept = PurchaseStats.objects.filter(**{key: record}, years__isnull=False).first()
    if kept is None:
        summary, per_year = tally(orders)
        bought = products_bought(orders)
    else:
        summary, per_year, bought = _kept(kept)
    return {
        "record": record,
        "key": key,
        "currency": organization_currency(),
        "summary": summary,
        "years": per_year,
        "products": _named(bought),
        "recent": list(orders.select_related("owner").order_by("-order_date", "-id")[:RECENT]),
        "count_all": orders.count(),
    }


def _kept(stats: PurchaseStats) -> tuple[dict, list[dict], list[dict]]:
    names = ("order_count", "first_order_date", "last_order_date", "total_spent", "currency", "unconverted")
    summary = {n: getattr(stats, n) for n in names}
    per_year = [
        {**y, "total": Decimal(y["total"]), "unconverted": [(c, Decimal(a)) for c, a in y["unconverted"]]}
        for y in stats.years
    ]
    bought = [{**p, "quantity": Decimal(p["quantity"])} for p in stats.products or []]
    return summary, per_year, bought


def _named(bought: list[dict]) -> list[dict]:
    """Each product's SKU and name as they are now (a product renamed since the last order shows its new name)."""
    found = {p.pk: p for p in Product.objects.filter(pk__in=[b["product_id"] for b in bought]).only("sku", "name")}
    return [
        {**b, "product__sku": found[b["product_id"]].sku, "product__name": found[b["product_id"]].name}
        for b in bought
        if b["product_id"] in found
    ]
