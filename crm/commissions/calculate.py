"""One rep's statement for one assigned period, computed from the data (nothing stored here):

1. credit lines — the rep's credits in the period (crm/commissions/credits.py), in the order won, each
   priced by the plan (crm/commissions/rules.py: marginal tiers by attainment, category rates);
2. clawback lines — orders cancelled or returned *in this period* (the ``Clawback`` rows crm/orders
   writes) whose win lies within the plan's clawback window (days from the win to the cancellation,
   the window of the plan the commission was paid under): minus the whole commission that deal or
   order earned the rep in its own period;
3. adjustment lines — managers' manual lines (``Adjustment``), with their notes;
4. totals, and the cap applied last, to the sum of all lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from crm.commissions import rules
from crm.commissions.credits import Credit, credits_of, day_range
from crm.commissions.models import Adjustment, Basis, CommissionPlan, LineKind, PlanAssignment
from crm.forecast import periods
from crm.forecast.categories import fiscal_year_start
from crm.forecast.models import Quota
from crm.money.currencies import minor_units, organization_currency, quantize, rounder
from crm.orders.models import Clawback

ZERO = Decimal(0)


@dataclass(slots=True)  # thousands per statement: slots make them cheaper to build
class Line:
    kind: str
    description: str
    rule: str
    commission: Decimal
    source_type: str = ""
    source_id: int | None = None
    date: dt.date | None = None
    original_amount: Decimal | None = None
    original_currency: str = ""
    base_amount: Decimal | None = None
    split_percent: Decimal | None = None


@dataclass
class Result:
    plan: CommissionPlan
    period: periods.Period
    currency: str
    quota: Decimal | None
    credited: Decimal
    attainment: Decimal | None
    lines: list[Line] = field(default_factory=list)
    earned: Decimal = ZERO
    clawbacks: Decimal = ZERO
    adjustments: Decimal = ZERO
    before_cap: Decimal = ZERO
    total: Decimal = ZERO
    cap_note: str = ""


def period_of(a: PlanAssignment, fy: int | None = None) -> periods.Period:
    return periods.of_start(a.period_kind, a.period_start, fy or fiscal_year_start())


def assignment_at(rep_id: int, day: dt.date) -> PlanAssignment | None:
    rows = PlanAssignment.objects.select_related("plan").filter(
        rep_id=rep_id, period_start__lte=day, period_end__gt=day
    )
    return rows.first()


def quota_of(rep_id: int, a: PlanAssignment) -> Decimal | None:
    row = Quota.objects.filter(user_id=rep_id, period_kind=a.period_kind, period_start=a.period_start).first()
    return row.amount if row is not None else None


def compute(a: PlanAssignment) -> Result:
    """One rep on its own: the reference definition. crm/commissions/batch.py computes many reps of a
    period in one pass with these same pieces, and tests/commissions hold the two equal."""
    quota = quota_of(a.rep_id, a)
    lines, credited = credit_lines(a, quota)
    return assemble(a, quota, lines, credited, _clawback_lines(a) + _adjustment_lines(a))


def assemble(a: PlanAssignment, quota, lines: list[Line], credited: Decimal, more: list[Line], fy=None) -> Result:
    """The statement from its credit lines, then its clawback and adjustment lines: totals, cap last."""
    plan = a.plan
    attainment = (credited * 100 / quota).quantize(Decimal("0.01")) if quota else None
    result = Result(plan, period_of(a, fy), organization_currency(), quota, credited, attainment, lines + more)
    for line in result.lines:
        if line.kind == LineKind.CLAWBACK:
            result.clawbacks += line.commission
        elif line.kind == LineKind.ADJUSTMENT:
            result.adjustments += line.commission
        else:
            result.earned += line.commission
    result.before_cap = result.earned + result.clawbacks + result.adjustments
    result.total, result.cap_note = rules.capped(result.before_cap, plan.cap)
    return result


def credit_lines(a: PlanAssignment, quota: Decimal | None) -> tuple[list[Line], Decimal]:
    """The priced credit lines, and the rep's credited total (what attainment is measured on)."""
    return price(a.plan, quota, credits_of(a.rep_id, a.plan.basis, a.period_start, a.period_end))


def price(plan: CommissionPlan, quota: Decimal | None, credits: list[Credit], units=None) -> tuple[list[Line], Decimal]:
    """``credits`` in the order won, each priced at the rep's attainment so far."""
    org = organization_currency()
    bands = rules.bands(plan.base_rate, [(t.threshold, t.rate) for t in plan.tiers.all()])
    category_rates = {c.category.lower(): (c.category, c.rate) for c in plan.category_rates.all()}
    units = minor_units(org) if units is None else units  # read once, not per line
    ladder, rounded = rules.Ladder(quota, bands), rounder(units)
    position, lines = ZERO, []
    for credit in credits:
        if category_rates and credit.categories:
            pieces = _pieces(credit, position, quota, bands, category_rates, org, units)
            commission, rule = sum((p.commission for p in pieces), ZERO), rules.describe(pieces)
        else:  # tiers only (most credits): the same sum and words, without a piece object per part
            commission, rule = ladder.price(credit.credited, position)
        position += credit.credited
        lines.append(_credit_line(credit, rule, rounded(commission)))
    return lines, position


def _pieces(credit: Credit, position, quota, bands, category_rates, org, units) -> list[rules.Piece]:
    by_category = []
    for category, fraction in sorted(credit.categories.items()):
        found = category_rates.get(category.lower())
        if found is not None:
            part = quantize(credit.credited * fraction, org, units=units)
            by_category.append(rules.category_piece(part, found[0], found[1]))
    rest = credit.credited - sum((p.amount for p in by_category), ZERO)
    tiered = rules.tiered(rest, position, quota, bands) if rest or not by_category else []
    return tiered + by_category


def _credit_line(credit: Credit, rule: str, commission: Decimal) -> Line:
    kind = credit.kind  # positional: a statement builds thousands of these
    return Line(
        kind,
        credit.description,
        rule,
        commission,
        kind,
        credit.source_id,
        credit.date,
        credit.original_amount,
        credit.original_currency,
        credit.base_amount,
        credit.split,
    )


def clawbacks_in(start: dt.date, end: dt.date):
    """The clawback rows whose order was cancelled or returned in [start, end): the order's
    ``cancelled_at`` (the service's clock), else when the row was written."""
    since, until = day_range(start, end)
    when = Q(order__cancelled_at__gte=since, order__cancelled_at__lt=until) | Q(
        order__cancelled_at__isnull=True, created_at__gte=since, created_at__lt=until
    )
    return Clawback.objects.filter(when)


def cancelled_on(cb: Clawback) -> dt.date:
    return timezone.localdate(cb.order.cancelled_at or cb.created_at)


def _clawback_lines(a: PlanAssignment) -> list[Line]:
    rows = clawbacks_in(a.period_start, a.period_end).select_related("order", "deal")
    originals: dict[int, dict] = {}  # assignment id → {(type, id): line}

    def paid_by(original: PlanAssignment) -> dict:
        if original.pk not in originals:
            lines, _ = credit_lines(original, quota_of(a.rep_id, original))
            originals[original.pk] = {(x.source_type, x.source_id): x for x in lines}
        return originals[original.pk]

    out = []
    for cb in rows.order_by("created_at", "id"):
        line = clawback_line(a.rep_id, cb, assignment_at, paid_by)
        if line is not None:
            out.append(line)
    return out


def _win_of(cb: Clawback, basis: str) -> tuple[str, int, dt.date] | None:
    if basis == Basis.ORDERS:
        return "order", cb.order_id, cb.order.order_date
    deal = cb.deal
    if deal is None or deal.closed_at is None:
        return None
    return "deal", deal.pk, timezone.localdate(deal.closed_at)


def clawback_line(rep_id: int, cb: Clawback, find, paid_by, fy=None) -> Line | None:
    """Which plan paid it: the rep's assignment on the win date (under either basis; the deal's close
    date for a deals plan, the order's date for an orders plan). ``find(rep_id, day)``: that
    assignment or None; ``paid_by(assignment)``: its credit lines by (source type, id)."""
    cancelled = cancelled_on(cb)
    for basis_day in candidate_days(cb):
        original = find(rep_id, basis_day)
        if original is None:
            continue
        win = _win_of(cb, original.plan.basis)
        if win is None or not original.period_start <= win[2] < original.period_end:
            continue
        source_type, source_id, won = win
        paid = paid_by(original).get((source_type, source_id))
        if paid is None:
            return None
        days, window = (cancelled - won).days, original.plan.clawback_days
        if days > window:
            return None  # outside the window: the commission stays paid
        return Line(
            kind=LineKind.CLAWBACK,
            description=f"{cb.order} {cb.reason} on {cancelled.isoformat()}: {paid.description}",
            rule=(
                f"clawback: {cb.reason} {days} days after the win (window {window} days); "
                f"takes back what {period_of(original, fy).key} paid"
            ),
            commission=-paid.commission,
            source_type=source_type,
            source_id=source_id,
            date=cancelled,
            base_amount=-paid.base_amount if paid.base_amount is not None else None,
            split_percent=paid.split_percent,
        )
    return None


def candidate_days(cb: Clawback) -> list[dt.date]:
    days = [cb.order.order_date]
    if cb.deal is not None and cb.deal.closed_at is not None:
        days.insert(0, timezone.localdate(cb.deal.closed_at))
    return list(dict.fromkeys(days))


def _adjustment_lines(a: PlanAssignment) -> list[Line]:
    rows = Adjustment.objects.filter(rep_id=a.rep_id, period_kind=a.period_kind, period_start=a.period_start)
    return [adjustment_line(adj) for adj in rows.select_related("created_by")]


def adjustment_line(adj: Adjustment) -> Line:
    who = adj.created_by.get_full_name() or adj.created_by.get_username() if adj.created_by else "system"
    return Line(
        kind=LineKind.ADJUSTMENT,
        description=adj.note,
        rule=f"adjustment by {who} on {timezone.localdate(adj.created_at).isoformat()}",
        commission=adj.amount,
        date=timezone.localdate(adj.created_at),
    )
