"""The product categories of what a deal sold, as fractions of the net of its lines: the lines of its
accepted quote's latest version, else of its live (not void) order. Commissions pay category rates on
these shares (crm/commissions/credits.py) and sales analytics splits won amounts by them
(crm/sales/breakdowns.py).

It lives here, not in crm/products (which holds the category itself): it reads quote and order lines,
and crm/products sits below crm/quotes and crm/orders (they import it, it imports neither), while
crm/orders already reads quotes. Neither consumer has to import the other."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from crm.orders.models import VOID, OrderLine
from crm.quotes.models import QuoteLine


def fractions(rows: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Each category's share of the lines' net (lines without a category are the rest)."""
    total = sum((n for _, n in rows), Decimal(0))
    if total <= 0:
        return {}
    by: dict[str, Decimal] = defaultdict(Decimal)
    for category, net in rows:
        if category:
            by[category] += net
    return {c: v / total for c, v in by.items() if v}


def deal_categories(deal_ids: list[int], *, within=None) -> dict[int, dict[str, Decimal]]:
    """Per deal of ``deal_ids``: {category: fraction}. ``within``: a queryset of deal ids to filter
    the lines by in SQL (a subquery) instead of a list of thousands of parameters."""
    among = deal_ids if within is None else within
    quote_lines: dict[int, list] = defaultdict(list)
    rows = QuoteLine.objects.filter(version__quote__deal_id__in=among, version__quote__status="accepted").values_list(
        "version__quote__deal_id",
        "version__quote_id",
        "version__number",
        "version__quote__current_version",
        "product__category",
        "net",
    )
    chosen: dict[int, int] = {}
    for deal_id, quote_id, number, current, category, net in rows.order_by("version__quote_id"):
        if number != current or chosen.setdefault(deal_id, quote_id) != quote_id:
            continue  # one accepted quote per deal (the first), its latest version
        quote_lines[deal_id].append((category or "", net))
    order_rows = OrderLine.objects.filter(order__deal_id__in=among).exclude(order__status__in=VOID)
    order_lines: dict[int, list] = defaultdict(list)
    first_order: dict[int, int] = {}
    for deal_id, order_id, category, net in order_rows.order_by("order_id").values_list(
        "order__deal_id", "order_id", "product__category", "net"
    ):
        if first_order.setdefault(deal_id, order_id) == order_id:
            order_lines[deal_id].append((category or "", net))
    return {d: fractions(quote_lines.get(d) or order_lines.get(d) or []) for d in deal_ids}
