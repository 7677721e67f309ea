"""Statements: (re)calculation into versions, adjustments, and who reads which.

A recalculation computes the statement (crm/commissions/calculate.py) and compares its fingerprint (a
hash of the lines and totals) with the latest version's: the same → nothing is written; different (or
none yet) → version n + 1. Old versions are never changed or deleted. The clawback rows a version
includes are marked settled (``Clawback.settled_at``), for crm/orders' bookkeeping."""

from __future__ import annotations

import hashlib
import json
import operator
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.audit import configwrites
from crm.commissions import access, batch, calculate
from crm.commissions.models import Adjustment, LineKind, PlanAssignment, Statement, StatementLine
from crm.core.errors import NotFound, ValidationFailed
from crm.forecast import periods
from crm.forecast.categories import fiscal_year_start
from crm.orders.models import Clawback

LINE_FIELDS = (
    "kind",
    "source_type",
    "source_id",
    "description",
    "date",
    "original_amount",
    "original_currency",
    "base_amount",
    "split_percent",
    "rule",
    "commission",
)
TOTALS = ("quota", "credited", "attainment", "earned", "clawbacks", "adjustments", "before_cap", "total", "cap_note")


def _plain(value):
    return f"{value:f}" if isinstance(value, Decimal) else value.isoformat() if hasattr(value, "isoformat") else value


def _json_plain(value):
    """``_plain`` for what json cannot write itself (Decimals, dates): json calls it only for those, so a
    statement's thousands of strings and ids are written without a Python call each."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_line_values = operator.attrgetter(*LINE_FIELDS)


def fingerprint(result: calculate.Result) -> str:
    content = {
        "plan": [result.plan.pk, result.plan.name],
        "currency": result.currency,
        "totals": {k: _plain(getattr(result, k)) for k in TOTALS},
        "lines": [_line_values(line) for line in result.lines],  # tuples: written as the same JSON arrays
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=_json_plain).encode()).hexdigest()


def latest(rep_id: int, kind: str, start) -> Statement | None:
    rows = Statement.objects.filter(rep_id=rep_id, period_kind=kind, period_start=start)
    return rows.order_by("-version").first()


def recalculate_assignment(a: PlanAssignment, *, actor=None) -> tuple[Statement, bool]:
    """(the latest version, whether this call wrote it). ``actor`` None: the background job."""
    return recalculate_many([a], actor=actor)[a.pk]


@transaction.atomic
def recalculate_many(given: list[PlanAssignment], *, actor=None) -> dict[int, tuple[Statement, bool]]:
    """{assignment id: (the latest version, whether this call wrote it)}, computed in one pass per
    period (crm/commissions/batch.py); only the statements whose fingerprint changed are written."""
    # One writer per rep and period at a time: the assignment rows are the locks, taken in id order.
    ids = sorted({a.pk for a in given})
    locked = list(batch.assignments().select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    results = batch.compute_many(locked)
    current = _latest_of(locked)
    out = {}
    for a in locked:
        result = results[a.pk]
        digest = fingerprint(result)
        found = current.get((a.rep_id, a.period_kind, a.period_start))
        if found is not None and found.fingerprint == digest:
            out[a.pk] = (found, False)
        else:
            out[a.pk] = (_write(a, result, digest, found, actor), True)
    _settle_clawbacks(locked, results, out)
    return out


def _latest_of(given: list[PlanAssignment]) -> dict[tuple, Statement]:
    """The latest version of each assignment's statement, in one query per period."""
    found: dict[tuple, Statement] = {}
    periods_of = {(a.period_kind, a.period_start) for a in given}
    for kind, start in periods_of:
        reps = [a.rep_id for a in given if (a.period_kind, a.period_start) == (kind, start)]
        rows = Statement.objects.filter(rep_id__in=reps, period_kind=kind, period_start=start)
        for st in rows.order_by("rep_id", "-version"):
            found.setdefault((st.rep_id, kind, start), st)
    return found


def _write(a: PlanAssignment, result: calculate.Result, digest: str, current, actor) -> Statement:
    statement = Statement.objects.create(
        rep_id=a.rep_id,
        plan=a.plan,
        plan_name=a.plan.name,
        period_kind=a.period_kind,
        period_start=a.period_start,
        period_key=result.period.key,
        version=(current.version + 1) if current else 1,
        currency=result.currency,
        fingerprint=digest,
        created_by=actor,
        **{k: getattr(result, k) for k in TOTALS},
    )
    StatementLine.objects.bulk_create(
        [
            StatementLine(statement=statement, position=i, **{f: getattr(x, f) for f in LINE_FIELDS})
            for i, x in enumerate(result.lines, start=1)
        ]
    )
    return statement


def _settle_clawbacks(given: list[PlanAssignment], results: dict, out: dict) -> None:
    """The clawback rows of each period with a written version that includes one are settled."""
    done = set()
    for a in given:
        key = (a.period_start, a.period_end)
        written = out[a.pk][1]
        if key in done or not written or not any(x.kind == LineKind.CLAWBACK for x in results[a.pk].lines):
            continue
        done.add(key)
        settled = calculate.clawbacks_in(a.period_start, a.period_end).filter(settled_at__isnull=True)
        Clawback.objects.filter(pk__in=list(settled.values_list("pk", flat=True))).update(settled_at=timezone.now())


def assignment_for(rep_id: int, period_key: str) -> PlanAssignment:
    p = periods.parse(period_key, fiscal_year_start())
    a = (
        PlanAssignment.objects.select_related("plan")
        .filter(rep_id=rep_id, period_kind=p.kind, period_start=p.start)
        .first()
    )
    if a is None:
        raise ValidationFailed({"period": f"User {rep_id} has no commission plan for {p.key}."})
    return a


def recalculate(*, actor, rep_id: int, period: str) -> tuple[Statement, bool]:
    """On demand: who may change the rep's commissions (a manager for their team, admins)."""
    access.require_rep(actor, rep_id, "change")
    return recalculate_assignment(assignment_for(rep_id, period), actor=actor)


def recalculate_period(*, actor, period: str) -> dict[int, tuple[Statement, bool]]:
    """On demand, every statement of a period ``actor`` may change (a manager: their team's, never their
    own; admins: all), in one pass. {rep id: (the latest version, whether this call wrote it)}."""
    p = periods.parse(period, fiscal_year_start())
    rows = [a for a in batch.of_period(p.kind, p.start) if access.may(actor, "change", a.rep_id)]
    if not rows:
        raise ValidationFailed({"period": f"No commission plan of {p.key} you may recalculate."})
    done = recalculate_many(rows, actor=actor)
    return {a.rep_id: done[a.pk] for a in rows}


@transaction.atomic
def adjustment_add(*, actor, rep_id: int, period: str, amount, note: str) -> tuple[Statement, bool]:
    """A manual line (positive or negative) with the reason; the statement gets a new version at once."""
    access.require_rep(actor, rep_id, "change")
    a = assignment_for(rep_id, period)
    errors = {}
    if isinstance(amount, float) or not isinstance(amount, Decimal | int | str):
        errors["amount"] = "A number as a string or Decimal, not a float."
    else:
        try:
            amount = Decimal(str(amount))
            if not amount.is_finite() or amount.as_tuple().exponent < -2 or abs(amount) >= 10**15 or amount == 0:
                errors["amount"] = "A non-zero amount with at most two decimals."
        except ArithmeticError:
            errors["amount"] = "Not a number."
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        errors["note"] = "Say why the statement is adjusted."
    elif len(note) > 500:
        errors["note"] = "At most 500 characters."
    if errors:
        raise ValidationFailed(errors)
    row = Adjustment(rep_id=rep_id, period_kind=a.period_kind, period_start=a.period_start, amount=amount, note=note)
    row.created_by = actor
    configwrites.create(row, actor=actor)
    return recalculate_assignment(a, actor=actor)


def visible(actor):
    """Every version of the statements ``actor`` may read."""
    ids = access.visible_rep_ids(actor, "view")
    rows = Statement.objects.select_related("rep")
    return rows if ids is None else rows.filter(rep_id__in=ids)


def latest_visible(actor, period_key: str | None = None, rep_id: int | None = None) -> list[Statement]:
    """The latest version of each rep's statement per period, newest periods first."""
    rows = visible(actor)
    if period_key:
        p = periods.parse(period_key, fiscal_year_start())
        rows = rows.filter(period_kind=p.kind, period_start=p.start)
    if rep_id is not None:
        rows = rows.filter(rep_id=rep_id)
    seen, out = set(), []
    for s in rows.order_by("-period_start", "rep_id", "-version")[:5000]:
        key = (s.rep_id, s.period_kind, s.period_start)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def get(actor, pk: int, action: str = "view") -> Statement:
    s = Statement.objects.select_related("rep").filter(pk=pk).first()
    if s is None:
        raise NotFound(f"No statement with id {pk}.")
    access.require_rep(actor, s.rep_id, action)
    return s


def versions_of(s: Statement) -> list[Statement]:
    return list(
        Statement.objects.filter(rep_id=s.rep_id, period_kind=s.period_kind, period_start=s.period_start).order_by(
            "-version"
        )
    )
