"""Many reps' statements in one pass: the same statements as crm/commissions/calculate.py's ``compute``
(one rep on its own, the reference), read with a fixed number of queries per period however many reps:

- the period's won deals (one query) with their splits (one) and category shares (two, see
  crm/orders/deal_categories.py) — or its orders with their lines, for orders plans;
- the reps' quotas (one), clawbacks of the period (one; the paying assignments and their periods' credits
  only when there are clawbacks), adjustments (one);
- then each rep's credits are picked from those rows in the order won and priced in Python
  (``calculate.price``), the same arithmetic as the reference.

A per-rep statement asked ~12 queries and built a model object per row; at 40 reps and 1,600 won deals that
was seconds (docs/benchmarks.md, "Commission statements")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch

from crm.commissions import calculate, won
from crm.commissions.credits import HUNDRED, Converter, Credit
from crm.commissions.models import Adjustment, Basis, CommissionPlan, DealSplit, PlanAssignment
from crm.forecast.categories import fiscal_year_start
from crm.forecast.models import Quota
from crm.money.currencies import minor_units, organization_currency
from crm.orders.deal_categories import fractions
from crm.orders.models import Order, OrderLine
from crm.records.models import Deal

ZERO = Decimal(0)


def assignments():
    """Assignments with their plans' tiers and category rates read once (not once per rep)."""
    plans = CommissionPlan.objects.prefetch_related("tiers", "category_rates")
    return PlanAssignment.objects.prefetch_related(Prefetch("plan", queryset=plans))


def of_period(kind: str, start: dt.date, rep_ids=None) -> list[PlanAssignment]:
    """The assignments of one period: every rep's, or those of ``rep_ids``."""
    rows = assignments().filter(period_kind=kind, period_start=start)
    if rep_ids is not None:
        rows = rows.filter(rep_id__in=list(rep_ids))
    return list(rows.order_by("rep_id"))


def compute_many(given: list[PlanAssignment]) -> dict[int, calculate.Result]:
    """{assignment id: its statement}, the assignments grouped by period, each period in one pass."""
    fy, units = fiscal_year_start(), minor_units(organization_currency())  # read once, not per rep
    groups: dict[tuple, list[PlanAssignment]] = defaultdict(list)
    for a in given:
        groups[(a.period_kind, a.period_start, a.period_end)].append(a)
    out = {}
    for (kind, start, end), rows in groups.items():
        out.update(_compute_period(kind, start, end, rows, fy, units))
    return out


def _compute_period(kind, start, end, rows: list[PlanAssignment], fy: int, units: int) -> dict[int, calculate.Result]:
    quotas = _quotas(kind, start, [a.rep_id for a in rows])
    credits = period_credits(start, end, rows)
    priced = {a.pk: calculate.price(a.plan, quotas.get(a.rep_id), credits[a.rep_id], units) for a in rows}
    clawbacks = _Clawbacks(start, end, [a.rep_id for a in rows], fy, units)
    adjustments = _adjustments(kind, start, [a.rep_id for a in rows])
    out = {}
    for a in rows:
        lines, credited = priced[a.pk]
        more = clawbacks.lines_of(a.rep_id) + adjustments.get(a.rep_id, [])
        out[a.pk] = calculate.assemble(a, quotas.get(a.rep_id), lines, credited, more, fy)
    return out


def _quotas(kind: str, start: dt.date, rep_ids: list[int]) -> dict[int, Decimal]:
    rows = Quota.objects.filter(user_id__in=rep_ids, period_kind=kind, period_start=start)
    found: dict[int, Decimal] = {}
    for user_id, amount in rows.order_by("pk").values_list("user_id", "amount"):
        found.setdefault(user_id, amount)  # the reference takes the first row
    return found


def period_credits(start: dt.date, end: dt.date, rows: list[PlanAssignment]) -> dict[int, list[Credit]]:
    """{rep id: credits in the order won} for the reps of ``rows`` (their plans' basis each)."""
    out: dict[int, list[Credit]] = {a.rep_id: [] for a in rows}
    by_basis = {Basis.DEALS: set(), Basis.ORDERS: set()}
    for a in rows:
        by_basis[Basis(a.plan.basis)].add(a.rep_id)
    if by_basis[Basis.DEALS]:
        _deal_credits(start, end, by_basis[Basis.DEALS], out)
    if by_basis[Basis.ORDERS]:
        _order_credits(start, end, by_basis[Basis.ORDERS], out)
    return out


def _splits(deals) -> dict[int, dict[int, Decimal]]:
    """Splits of the deals of a queryset, read through a subquery (not thousands of parameters)."""
    out: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = DealSplit.objects.filter(deal_id__in=deals.values("id")).order_by("deal_id", "id")
    for deal_id, user_id, percent in rows.values_list("deal_id", "user_id", "percent"):
        out[deal_id][user_id] = percent
    return out


def _deal_credits(start, end, reps: set[int], out: dict[int, list[Credit]]) -> None:
    deals = won.won_deals(start, end)  # in the order won, with their splits and local days
    shares = won.category_shares(deals)
    to_org = Converter({d[4] for d in deals}, end)
    for day, pk, name, amount, currency, owner_id, splits, _lines in deals:
        credited = _credited_reps(reps, splits, owner_id)
        if not credited:
            continue
        amount = amount or ZERO
        base = to_org(amount, currency, day)  # once per deal, whatever the number of reps on it
        code, categories = currency.upper(), shares.get(pk)
        for rep_id, split in credited:
            # The owner's whole deal: base × 100 / 100 is base itself, already rounded (same digits).
            credited_amount = base if split is HUNDRED else to_org.round(base * split / HUNDRED)
            credit = Credit("deal", pk, name, day, amount, code, base, split, credited_amount, categories or {})
            out[rep_id].append(credit)


def _order_credits(start, end, reps: set[int], out: dict[int, list[Credit]]) -> None:
    orders = Order.objects.filter(order_date__gte=start, order_date__lt=end)
    rows = sorted(orders, key=lambda o: (o.order_date, o.pk))
    splits = _splits(Deal.objects.filter(pk__in=orders.exclude(deal_id=None).values("deal_id")))
    lines: dict[int, list] = defaultdict(list)
    line_rows = OrderLine.objects.filter(order_id__in=orders.values("id")).order_by("order_id", "id")
    for order_id, category, net in line_rows.values_list("order_id", "product__category", "net"):
        lines[order_id].append((category or "", net))
    to_org = Converter({o.currency for o in rows}, end)
    for order in rows:
        credited = _credited_reps(reps, splits.get(order.deal_id, {}), order.owner_id)
        if not credited:
            continue
        net = sum((n for _, n in lines.get(order.pk, [])), Decimal(0))
        base = to_org(net, order.currency, order.order_date)
        for rep_id, split in credited:
            credited_amount = to_org.round(base * split / HUNDRED)
            credit = Credit(
                "order",
                order.pk,
                str(order),
                order.order_date,
                net,
                order.currency.upper(),
                base,
                split,
                credited_amount,
            )
            credit.categories = fractions(lines.get(order.pk, []))
            out[rep_id].append(credit)


def _credited_reps(reps: set[int], splits: dict[int, Decimal], owner_id):
    """(rep, percent) of the reps asked for who share this deal or order (credits.share_of's rule)."""
    if splits:
        return [(rep_id, percent) for rep_id, percent in splits.items() if rep_id in reps]
    return ((owner_id, HUNDRED),) if owner_id in reps else ()  # share_of without splits: all the owner's


def _adjustments(kind: str, start: dt.date, rep_ids: list[int]) -> dict[int, list[calculate.Line]]:
    rows = Adjustment.objects.filter(rep_id__in=rep_ids, period_kind=kind, period_start=start)
    out: dict[int, list] = defaultdict(list)
    for adj in rows.select_related("created_by"):
        out[adj.rep_id].append(calculate.adjustment_line(adj))
    return out


class _Clawbacks:
    """The period's clawback rows read once; the assignments that paid them, and those periods'
    credit lines, read only when there are clawbacks, once per paying period (not per rep)."""

    def __init__(self, start, end, rep_ids: list[int], fy: int, units: int):
        rows = calculate.clawbacks_in(start, end).select_related("order", "deal").order_by("created_at", "id")
        self.rows, self.fy, self.units = list(rows), fy, units
        self.by_rep: dict[int, list[PlanAssignment]] = defaultdict(list)
        self.paid: dict[int, dict] = {}  # assignment id → {(type, id): line}
        if self.rows:
            days = [d for cb in self.rows for d in calculate.candidate_days(cb)]
            found = assignments().filter(rep_id__in=rep_ids, period_start__lte=max(days), period_end__gt=min(days))
            for a in found.order_by("period_start", "rep_id"):
                self.by_rep[a.rep_id].append(a)

    def lines_of(self, rep_id: int) -> list[calculate.Line]:
        out = []
        for cb in self.rows:
            line = calculate.clawback_line(rep_id, cb, self._find, self._paid_by, self.fy)
            if line is not None:
                out.append(line)
        return out

    def _find(self, rep_id: int, day: dt.date) -> PlanAssignment | None:
        return next((a for a in self.by_rep[rep_id] if a.period_start <= day < a.period_end), None)

    def _paid_by(self, original: PlanAssignment) -> dict:
        if original.pk not in self.paid:
            key = (original.period_kind, original.period_start, original.period_end)
            same = [
                a for rows in self.by_rep.values() for a in rows if (a.period_kind, a.period_start, a.period_end) == key
            ]
            quotas = _quotas(original.period_kind, original.period_start, [a.rep_id for a in same])
            credits = period_credits(original.period_start, original.period_end, same)
            for a in same:
                lines, _ = calculate.price(a.plan, quotas.get(a.rep_id), credits[a.rep_id], self.units)
                self.paid[a.pk] = {(x.source_type, x.source_id): x for x in lines}
        return self.paid[original.pk]
