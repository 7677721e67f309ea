"""Per-customer purchase stats (``PurchaseStats``): order count, total spent in the organization's
currency, first and last order date, and the purchase-history card's breakdowns (totals per year,
the most bought products). Refreshed by every order write for the customers it touches, so the
companies' and contacts' filterable fields (total spent, last order date, order count) are plain
joined columns, as cheap to filter and sort as the records' own, and the card of a customer with
10,000 orders reads one row (crm/orders/history.py).

Why a table and not computed fields: a filter on a sum over orders converted at each order's date
would be a grouped subquery with a rate lookup per row on every list page; the stats row is written
once per order write instead. Cancelled and returned orders do not count. An exchange rate entered
later refreshes, in the worker, the customers whose orders it converts (crm/orders/stats_jobs.py)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from crm.money.currencies import quantize
from crm.money.rates import RateTable
from crm.orders.models import VOID, Order, OrderLine, PurchaseStats

PRODUCTS = 20  # the most bought products the card lists
BATCH = 500  # customers refreshed by one set of queries (SQLite's bound parameters stay few)


def refresh_for(order: Order, previous: dict | None = None) -> None:
    companies = {order.company_id} | ({previous.get("company_id")} if previous else set())
    contacts = {order.contact_id} | ({previous.get("contact_id")} if previous else set())
    refresh(company_ids=companies - {None}, contact_ids=contacts - {None})


def refresh(*, company_ids=(), contact_ids=()) -> None:
    """The stats rows of these customers, recomputed: a few grouped queries per BATCH customers, however
    many (an import refreshes a chunk's customers together, undo the customers of what it removes)."""
    for key, ids in (("company", company_ids), ("contact", contact_ids)):
        ids = sorted(set(ids) - {None})
        for start in range(0, len(ids), BATCH):
            _refresh_many(key, ids[start : start + BATCH])


def tally(orders) -> tuple[dict, list[dict]]:
    """(summary, per year) of a queryset of orders, void ones left out, from one grouped query: the
    summary's counts, dates and total converted at each order's date, and the same per year (amounts
    with no rate for their date kept apart per currency, never converted at a guessed 1.0)."""
    live = orders.exclude(status__in=VOID)
    groups = list(live.values_list("currency", "order_date").annotate(total=Sum("total"), n=Count("id")).order_by())
    return _tally(groups, RateTable({c for c, _, _, _ in groups}))


def _tally(groups: list[tuple], table: RateTable) -> tuple[dict, list[dict]]:
    """tally's figures of (currency, date, total, count) groups, converted with ``table``."""
    org, units = table.org, table.org_units
    years: dict[int, dict] = defaultdict(lambda: {"total": Decimal(0), "count": 0, "unconverted": defaultdict(Decimal)})
    unconverted = 0
    for currency, on, total, n in groups:
        year = years[on.year]
        year["count"] += n
        found = table.lookup(currency, on)
        if found is None:
            year["unconverted"][currency] += total
            unconverted += n
        else:
            year["total"] += total * found[0]
    dates = [on for _, on, _, _ in groups]
    summary = {
        "order_count": sum(n for *_, n in groups),
        "first_order_date": min(dates, default=None),
        "last_order_date": max(dates, default=None),
        "total_spent": quantize(sum((y["total"] for y in years.values()), Decimal(0)), org, units=units),
        "currency": org,
        "unconverted": unconverted,
    }
    per_year = [
        {
            "year": y,
            "count": v["count"],
            "total": quantize(v["total"], org, units=units),
            "unconverted": sorted(v["unconverted"].items()),
        }
        for y, v in sorted(years.items(), reverse=True)
    ]
    return summary, per_year


def summary(orders) -> dict:
    """Counts, dates and the total converted, of a queryset of orders (void ones are left out here)."""
    return tally(orders)[0]


def products_bought(orders) -> list[dict]:
    """The most bought products of the orders (void ones left out): product id, quantity, orders."""
    return list(
        OrderLine.objects.filter(order__in=orders.exclude(status__in=VOID), product__isnull=False)
        .values("product_id")
        .annotate(quantity=Sum("quantity"), orders=Count("order", distinct=True))
        .order_by("-quantity", "product__sku")[:PRODUCTS]
    )


def _refresh_many(key: str, ids: list[int]) -> None:
    """tally and products_bought for each customer, from one grouped query each for all of them."""
    field = f"{key}_id"
    live = Order.objects.filter(**{f"{field}__in": ids}).exclude(status__in=VOID)
    rows = live.values_list(field, "currency", "order_date").annotate(total=Sum("total"), n=Count("id")).order_by()
    groups: dict[int, list] = defaultdict(list)
    for pk, *group in rows:
        groups[pk].append(tuple(group))
    table = RateTable({g[0] for gs in groups.values() for g in gs})
    bought: dict[int, list] = defaultdict(list)
    lines = OrderLine.objects.filter(order__in=live, product__isnull=False).values(f"order__{field}", "product_id")
    lines = lines.annotate(quantity=Sum("quantity"), orders=Count("order", distinct=True))
    for row in lines.order_by(f"order__{field}", "-quantity", "product__sku"):
        pk = row.pop(f"order__{field}")
        if len(bought[pk]) < PRODUCTS:
            bought[pk].append({**row, "quantity": str(row["quantity"])})
    rows = []
    for pk in ids:
        values, per_year = _tally(groups.get(pk, []), table)
        values["years"] = [
            {**y, "total": str(y["total"]), "unconverted": [[c, str(a)] for c, a in y["unconverted"]]} for y in per_year
        ]
        values["products"] = bought.get(pk, [])
        rows.append(PurchaseStats(**{field: pk}, **values))
    # One upsert for new and existing rows alike (also when two requests write a customer's first order).
    PurchaseStats.objects.bulk_create(rows, update_conflicts=True, unique_fields=[key], update_fields=STORED_FIELDS)


STORED_FIELDS = ("order_count", "total_spent", "currency", "first_order_date", "last_order_date", "unconverted")
STORED_FIELDS += ("years", "products")
