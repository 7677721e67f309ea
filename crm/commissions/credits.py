"""What a rep is credited with in a period: the won deals (basis "deals") or orders (basis "orders") and
each one's share of it.

- A won deal counts in the period of its close date; an order in the period of its order date.
- A deal's credit goes to its splits (``DealSplit``, summing to 100), or, without splits, 100 % to its
  owner. An order's goes to its deal's splits, or else 100 % to the order's owner.
- The base is the deal's amount, or the sum of the order lines' net amounts (after discounts, before
  tax), converted to the organization's currency at the rate of that date (crm/money/rates.py; a
  missing rate is a 422, never 1.0).
- Category shares come from lines: an order's own; for a deal, its accepted quote's latest version, or
  else its live order. A line's product category weighs by its net amount."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from crm.commissions.models import Basis, DealSplit
from crm.money.currencies import rounder
from crm.money.rates import MissingRate, RateTable
from crm.orders.deal_categories import deal_categories, fractions
from crm.orders.models import Order, OrderLine
from crm.records.models import Deal, DealStatus

HUNDRED = Decimal(100)


@dataclass(slots=True)  # thousands per statement run: slots make them cheaper to build and read
class Credit:
    kind: str  # "deal" or "order"
    source_id: int
    description: str
    date: dt.date
    original_amount: Decimal
    original_currency: str
    base_amount: Decimal  # in the organization's currency
    split: Decimal  # the rep's percent
    credited: Decimal  # base × split, rounded to the currency's minor unit
    categories: dict[str, Decimal] = field(default_factory=dict)  # category → fraction of the lines' net


def day_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(start, dt.time.min, tzinfo=tz), dt.datetime.combine(end, dt.time.min, tzinfo=tz)


def credits_of(rep_id: int, basis: str, start: dt.date, end: dt.date) -> list[Credit]:
    """The rep's credits in [start, end), in the order they were won (date, then id)."""
    found = _deal_credits(rep_id, start, end) if basis == Basis.DEALS else _order_credits(rep_id, start, end)
    return sorted(found, key=lambda c: (c.date, c.source_id))


class Converter:
    """Amounts to the organization's currency at their date's rate, the rates read in one query and
    the minor units once (a statement of a hundred deals is then a handful of queries, not hundreds)."""

    def __init__(self, codes, until: dt.date):
        self.table = RateTable(codes, until=until)
        self.round = rounder(self.table.org_units)  # crm/money/currencies.py quantize, to the organization's unit
        self._rates: dict[tuple[str, dt.date], Decimal] = {}  # (code as given, day) → rate: a period has few

    def __call__(self, amount: Decimal, code: str, day: dt.date) -> Decimal:
        rate = self._rates.get((code, day))
        if rate is None:
            found = self.table.lookup(code.upper(), day)
            if found is None:
                raise MissingRate(code.upper(), day)
            rate = self._rates[(code, day)] = found[0]
        return self.round(Decimal(amount) * rate)


def splits_by_deal(deal_ids) -> dict[int, dict[int, Decimal]]:
    out: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for deal_id, user_id, percent in DealSplit.objects.filter(deal_id__in=list(deal_ids)).values_list(
        "deal_id", "user_id", "percent"
    ):
        out[deal_id][user_id] = percent
    return out


def share_of(rep_id: int, splits: dict[int, Decimal], fallback_owner: int | None) -> Decimal | None:
    if splits:
        return splits.get(rep_id)
    return HUNDRED if fallback_owner == rep_id else None


def _deal_credits(rep_id: int, start: dt.date, end: dt.date) -> list[Credit]:
    since, until = day_range(start, end)
    mine = Q(commission_splits__user_id=rep_id) | Q(owner_id=rep_id, commission_splits__isnull=True)
    won = Deal.objects.filter(mine, status=DealStatus.WON, closed_at__gte=since, closed_at__lt=until).distinct()
    # Only what a credit line reads: a whole deal row (custom fields JSON and all) per line is most of the cost.
    deals = list(won.only("id", "name", "amount", "currency", "closed_at", "owner_id"))
    splits = splits_by_deal(d.pk for d in deals)
    shares = deal_categories([d.pk for d in deals])
    to_org = Converter({d.currency for d in deals}, end)
    out = []
    for deal in deals:
        split = share_of(rep_id, splits.get(deal.pk, {}), deal.owner_id)
        if split is None:
            continue
        day = timezone.localdate(deal.closed_at)
        out.append(_credit(to_org, "deal", deal.pk, deal.name, day, deal.amount or Decimal(0), deal.currency, split))
        out[-1].categories = shares.get(deal.pk, {})
    return out


def _order_credits(rep_id: int, start: dt.date, end: dt.date) -> list[Credit]:
    mine = Q(deal__commission_splits__user_id=rep_id) | (
        Q(owner_id=rep_id) & (Q(deal__isnull=True) | Q(deal__commission_splits__isnull=True))
    )
    orders = list(Order.objects.filter(mine, order_date__gte=start, order_date__lt=end).distinct())
    splits = splits_by_deal({o.deal_id for o in orders if o.deal_id})
    lines = _order_lines([o.pk for o in orders])
    to_org = Converter({o.currency for o in orders}, end)
    out = []
    for order in orders:
        split = share_of(rep_id, splits.get(order.deal_id, {}), order.owner_id)
        if split is None:
            continue
        rows = lines.get(order.pk, [])
        net = sum((n for _, n in rows), Decimal(0))
        out.append(_credit(to_org, "order", order.pk, str(order), order.order_date, net, order.currency, split))
        out[-1].categories = fractions(rows)
    return out


def _credit(to_org: Converter, kind, pk, name, day, amount, currency, split) -> Credit:
    base = to_org(amount, currency, day)
    credited = to_org.round(base * split / HUNDRED)
    return Credit(kind, pk, name, day, amount, currency.upper(), base, split, credited)


def _order_lines(order_ids) -> dict[int, list[tuple[str, Decimal]]]:
    out: dict[int, list] = defaultdict(list)
    rows = OrderLine.objects.filter(order_id__in=order_ids).values_list("order_id", "product__category", "net")
    for order_id, category, net in rows:
        out[order_id].append((category or "", net))
    return out
