"""A customer's purchase history (a company's or a contact's): its orders, totals per year converted
to the organization's currency at each order's date, first and last purchase, products bought.

Read through the restricted querysets (an order of a customer the user sees is readable: models.py).
Cancelled and returned orders are listed but not counted. Each sum is grouped in the database (per
currency and order date, per product), so a customer with 10,000 orders costs a few grouped queries,
not 10,000 rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from crm.money.currencies import organization_currency, quantize
from crm.money.rates import RateTable
from crm.orders.models import VOID, Order, OrderLine
from crm.orders.stats import summary

RECENT = 10
PRODUCTS = 20


def history(user, record) -> dict:
    key = "company" if record.object_type == "company" else "contact"
    orders = Order.objects.restrict(user).filter(**{key: record})
    live = orders.exclude(status__in=VOID)
    org = organization_currency()
    groups = list(live.values_list("currency", "order_date").annotate(total=Sum("total"), n=Count("id")).order_by())
    table = RateTable({c for c, _, _, _ in groups})
    years: dict[int, dict] = defaultdict(lambda: {"total": Decimal(0), "count": 0, "unconverted": defaultdict(Decimal)})
    for currency, on, total, n in groups:
        year = years[on.year]
        year["count"] += n
        found = table.lookup(currency, on)
        if found is None:
            year["unconverted"][currency] += total  # shown as it is, never converted at a guessed 1.0
        else:
            year["total"] += total * found[0]
    per_year = [
        {
            "year": y,
            "count": v["count"],
            "total": quantize(v["total"], org),
            "unconverted": sorted(v["unconverted"].items()),
        }
        for y, v in sorted(years.items(), reverse=True)
    ]
    products = (
        OrderLine.objects.filter(order__in=live, product__isnull=False)
        .values("product_id", "product__sku", "product__name")
        .annotate(quantity=Sum("quantity"), orders=Count("order", distinct=True))
        .order_by("-quantity", "product__sku")[:PRODUCTS]
    )
    return {
        "record": record,
        "key": key,
        "currency": org,
        "summary": summary(orders),
        "years": per_year,
        "products": list(products),
        "recent": list(orders.select_related("owner").order_by("-order_date", "-id")[:RECENT]),
        "count_all": orders.count(),
    }
