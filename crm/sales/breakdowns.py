"""Sales analytics by product category, activity counts per rep, and the revenue trend (docs/analytics.md).

Each reads only what the viewer may see: deals through ``analytics.scope`` (``Deal.objects.restrict``
and the filters), activities through ``Activity.objects.restrict``. Amounts are in the organization's
currency, each deal at the rate of its close date; a missing rate is a 422 (MissingRate).

- by category: the period's won deals, each amount shared among its product categories by the net of
  its lines (its accepted quote's latest version, else its live order: crm/orders/deal_categories.py, the
  same shares commissions pay on); the part no category covers, and deals without lines, are
  ``""`` (uncategorized). ``deals`` counts the deals with a share in the category.
- activities: activities that occurred in the period, per owner and kind; owner and team filters apply
  to the activity's owner (pipeline and source filter deals, not activities, and are ignored here).
- trend: won amount and count per calendar month, the 12 months ending with the period's last month,
  beside the same month a year earlier (one grouped query over 24 months).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum

from crm.forecast.periods import Period
from crm.money import totals as money_totals
from crm.money.currencies import organization_currency, quantize
from crm.money.rates import MissingRate
from crm.orders.deal_categories import deal_categories
from crm.records.models import Activity
from crm.sales import analytics, summaries
from crm.sales.models import Outcome

ZERO = Decimal(0)


def _table(groups: list[money_totals.Group]):
    """One rate table for all the groups; MissingRate naming the first currency and day without a rate."""
    table = money_totals.table_for(groups)
    for g in groups:
        if table.lookup(g.currency.upper(), g.on) is None:
            raise MissingRate(g.currency, g.on)
    return table


def category_shares(deals, period: Period) -> dict[str, dict]:
    """{category: {"amount": Decimal (unrounded), "ids": set of deal ids}} of the period's won deals."""
    won = analytics.deals_behind(deals, period, "won").order_by()
    rows = list(won.annotate(day=analytics.LocalDate("closed_at")).values_list("id", "amount", "currency", "day"))
    groups = [money_totals.Group(c, d, a or ZERO, ZERO) for _, a, c, d in rows]
    table = _table(groups) if groups else None
    shares = deal_categories([r[0] for r in rows])
    out: dict[str, dict] = defaultdict(lambda: {"amount": ZERO, "ids": set()})
    for deal_id, amount, currency, day in rows:
        base = (amount or ZERO) * table.lookup(currency.upper(), day)[0]
        fractions = shares.get(deal_id, {})
        rest = Decimal(1) - sum(fractions.values(), ZERO)
        for category, fraction in [*fractions.items(), *([("", rest)] if rest > 0 else [])]:
            out[category]["amount"] += base * fraction
            out[category]["ids"].add(deal_id)
    return out


def by_category(user, period: Period, previous: Period, filters: analytics.Filters) -> list[dict]:
    """Per category: won deals and amount in the period and the previous one, and the change."""
    deals = analytics.scope(user, filters)
    now, before = category_shares(deals, period), category_shares(deals, previous)
    org = organization_currency()

    def money(x):
        return quantize(x["amount"], org) if x else Decimal("0.00")

    rows = []
    for category in sorted(set(now) | set(before), key=lambda c: (c == "", c.lower())):
        cur, prev = now.get(category), before.get(category)
        rows.append(
            {
                "category": category,
                "deals": len(cur["ids"]) if cur else 0,
                "amount": money(cur),
                "previous_deals": len(prev["ids"]) if prev else 0,
                "previous_amount": money(prev),
                "change_amount": money(cur) - money(prev),
            }
        )
    return rows


def category_deal_ids(user, period: Period, filters: analytics.Filters, category: str) -> set[int]:
    """The drill-down: the won deals of the period with a share in ``category`` ("" uncategorized)."""
    found = category_shares(analytics.scope(user, filters), period).get(category)
    return found["ids"] if found else set()


def activities_in(user, period: Period, filters: analytics.Filters, owner_id: int | None = None):
    """The activities the viewer may see that occurred in the period, narrowed by owner/team."""
    filters.check()
    start, end = analytics.bounds(period)
    rows = Activity.objects.restrict(user, "view").filter(occurred_at__gte=start, occurred_at__lt=end)
    if filters.owner_id is not None:
        rows = rows.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        rows = rows.filter(owner_id__in=analytics.team_members(filters.team_id))
    return rows if owner_id is None else rows.filter(owner_id=owner_id)


def _counts(user, period: Period, filters: analytics.Filters) -> dict:
    """{owner: {kind: n}}: from the kept per-day counts when the viewer sees every activity, else a scan."""
    kept = summaries.activity_sums(user)
    if kept is not None:
        filters.check()
        rows = summaries.activity_counts(kept, period, filters)
    else:
        rows = activities_in(user, period, filters).order_by().values("owner_id", "kind").annotate(n=Count("id"))
    out: dict = defaultdict(dict)
    for r in rows:
        out[r["owner_id"]][r["kind"]] = r["n"]
    return out


def activity_counts(user, period: Period, previous: Period, filters: analytics.Filters) -> list[dict]:
    """Per owner (None: no owner): counts by kind and in total, beside the previous period's total."""
    now, before = _counts(user, period, filters), _counts(user, previous, filters)
    names = {
        u.pk: u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(pk__in=[k for k in {*now, *before} if k is not None])
    }
    rows = []
    for owner_id in {*now, *before}:
        total, prev = sum(now.get(owner_id, {}).values()), sum(before.get(owner_id, {}).values())
        rows.append(
            {
                "owner_id": owner_id,
                "owner": names.get(owner_id, "(no owner)"),
                "kinds": dict(sorted(now.get(owner_id, {}).items())),
                "total": total,
                "previous_total": prev,
                "change": total - prev,
            }
        )
    return sorted(rows, key=lambda r: (-r["total"], r["owner"].lower(), r["owner_id"] or 0))


def _month_starts(last: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` months ending with the month of ``last``, oldest first."""
    y, m = last.year, last.month
    out = []
    for _ in range(count):
        out.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def revenue_trend(user, period: Period, filters: analytics.Filters, months: int = 12) -> list[dict]:
    """Won count and amount per month, the ``months`` months ending with the period's last month, each
    beside the same month a year earlier."""
    starts = _month_starts(period.last_day, months + 12)
    last = starts[-1]
    end = dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    span = Period(kind="month", key="", start=starts[0], end=end)
    deals = analytics.scope(user, filters)
    sums = summaries.deal_sums(user, filters)
    if sums is not None:  # the kept per-day sums (crm/sales/summaries.py)
        rows = sums.groups(Outcome.WON, span.start, span.end)
    else:
        won = analytics.deals_behind(deals, span, "won").order_by()
        day = analytics.LocalDate("closed_at")
        rows = won.annotate(day=day).values("currency", "day").annotate(total=Sum("amount"), n=Count("id"))
    groups = [
        (r["day"].replace(day=1), money_totals.Group(r["currency"], r["day"], r["total"] or ZERO, ZERO), r["n"])
        for r in rows
    ]
    table = _table([g for _, g, _ in groups]) if groups else None
    by_month: dict = defaultdict(list)
    counts: dict = defaultdict(int)
    for month, group, n in groups:
        by_month[month].append(group)
        counts[month] += n

    def amount(month):
        return money_totals.converted(by_month[month], table)["amount"] if by_month.get(month) else Decimal("0.00")

    out = []
    for i, month in enumerate(starts[12:]):
        year_before = starts[i]
        out.append(
            {
                "month": month.strftime("%Y-%m"),
                "won_count": counts.get(month, 0),
                "won_amount": amount(month),
                "previous_year_count": counts.get(year_before, 0),
                "previous_year_amount": amount(year_before),
            }
        )
    return out
