"""Per-customer purchase stats (``PurchaseStats``): order count, total spent in the organization's
currency, first and last order date. Refreshed by every order write for the customers it touches, so
the companies' and contacts' filterable fields (total spent, last order date, order count) are plain
joined columns, as cheap to filter and sort as the records' own.

Why a table and not computed fields: a filter on a sum over orders converted at each order's date
would be a grouped subquery with a rate lookup per row on every list page; the stats row is written
once per order write instead. Cancelled and returned orders do not count."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Max, Min, Sum

from crm.money.currencies import organization_currency, quantize
from crm.money.rates import RateTable
from crm.orders.models import VOID, Order, PurchaseStats


def refresh_for(order: Order, previous: dict | None = None) -> None:
    companies = {order.company_id} | ({previous.get("company_id")} if previous else set())
    contacts = {order.contact_id} | ({previous.get("contact_id")} if previous else set())
    refresh(company_ids=companies - {None}, contact_ids=contacts - {None})


def refresh(*, company_ids=(), contact_ids=()) -> None:
    for key, ids in (("company", company_ids), ("contact", contact_ids)):
        for pk in ids:
            _refresh_one(key, pk)


def summary(orders) -> dict:
    """Counts, dates and the total converted, of a queryset of orders (void ones are left out here)."""
    live = orders.exclude(status__in=VOID)
    head = live.aggregate(count=Count("id"), first=Min("order_date"), last=Max("order_date"))
    groups = list(live.values_list("currency", "order_date").annotate(total=Sum("total"), n=Count("id")).order_by())
    org = organization_currency()
    table = RateTable({c for c, _, _, _ in groups})
    spent, unconverted = Decimal(0), 0
    for currency, on, total, n in groups:
        found = table.lookup(currency, on)
        if found is None:
            unconverted += n
            continue
        spent += total * found[0]
    return {
        "order_count": head["count"],
        "first_order_date": head["first"],
        "last_order_date": head["last"],
        "total_spent": quantize(spent, org),
        "currency": org,
        "unconverted": unconverted,
    }


def _refresh_one(key: str, pk: int) -> None:
    values = summary(Order.objects.filter(**{f"{key}_id": pk}))
    PurchaseStats.objects.update_or_create(**{f"{key}_id": pk}, defaults=values)
