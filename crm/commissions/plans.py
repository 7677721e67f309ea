"""Plan, assignment and deal-split writes, each validated and logged (crm/audit/configwrites.py).

Plans: admins. Assignments: who may change the rep's commissions (crm/commissions/access.py). Splits:
who may change the deal. Every refusal is a 422 naming the field (``tiers.1.rate``, ``splits``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction

from crm.audit import changelog, configwrites
from crm.commissions import access
from crm.commissions.models import Basis, CategoryRate, CommissionPlan, DealSplit, PlanAssignment, PlanTier
from crm.core.errors import NotFound, ValidationFailed
from crm.forecast import periods
from crm.forecast.categories import fiscal_year_start
from crm.records.models import Deal
from crm.records.services import common

PLAN_FIELDS = ("name", "basis", "base_rate", "cap", "clawback_days")


def _decimal(value, path: str, errors: dict, *, low=Decimal(0), high: Decimal | None = None, places=4):
    """A Decimal (or a numeric string) within bounds, never a float; None when refused."""
    if isinstance(value, float) or isinstance(value, bool):
        errors[path] = "A number as a string or Decimal, not a float."
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, int | str) else value
        if not isinstance(number, Decimal) or not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[path] = "Not a number."
        return None
    if number < low or (high is not None and number > high):
        errors[path] = f"Between {low} and {high}." if high is not None else f"At least {low}."
        return None
    if number.as_tuple().exponent < -places:
        errors[path] = f"At most {places} decimals."
        return None
    return number


def _plan_values(data: dict, plan: CommissionPlan | None) -> tuple[dict, list, list]:
    errors, values = {}, {}
    if "name" in data or plan is None:
        name = (data.get("name") or "").strip() if isinstance(data.get("name"), str | type(None)) else ""
        if not name:
            errors["name"] = "A plan needs a name."
        values["name"] = name
    if "basis" in data:
        if data["basis"] not in Basis.values:
            errors["basis"] = f"One of {', '.join(Basis.values)}."
        values["basis"] = data["basis"]
    if "base_rate" in data or plan is None:
        values["base_rate"] = _decimal(data.get("base_rate"), "base_rate", errors, high=Decimal(100))
    if "cap" in data:
        cap = data["cap"]
        values["cap"] = None if cap is None else _decimal(cap, "cap", errors, places=2)
    if "clawback_days" in data:
        days = data["clawback_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650:
            errors["clawback_days"] = "A whole number of days from 0 to 3650."
        values["clawback_days"] = days
    tiers = _tiers(data.get("tiers"), errors) if "tiers" in data else None
    rates = _category_rates(data.get("category_rates"), errors) if "category_rates" in data else None
    common.raise_if(errors)
    return values, tiers, rates


def _tiers(raw, errors: dict) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["tiers"] = "A list of {threshold, rate}."
        return []
    out, seen = [], set()
    for i, tier in enumerate(raw):
        tier = tier if isinstance(tier, dict) else {}
        threshold = _decimal(tier.get("threshold"), f"tiers.{i}.threshold", errors, places=2)
        rate = _decimal(tier.get("rate"), f"tiers.{i}.rate", errors, high=Decimal(100))
        if threshold is not None and threshold in seen:
            errors[f"tiers.{i}.threshold"] = f"Two tiers start at {threshold} % of quota."
        seen.add(threshold)
        out.append((threshold, rate))
    return out


def _category_rates(raw, errors: dict) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["category_rates"] = "A list of {category, rate}."
        return []
    out, seen = [], set()
    for i, row in enumerate(raw):
        row = row if isinstance(row, dict) else {}
        category = row.get("category").strip() if isinstance(row.get("category"), str) else ""
        if not category:
            errors[f"category_rates.{i}.category"] = "Name the product category."
        elif category.lower() in seen:
            errors[f"category_rates.{i}.category"] = f"{category} has a rate already."
        seen.add(category.lower())
        out.append((category, _decimal(row.get("rate"), f"category_rates.{i}.rate", errors, high=Decimal(100))))
    return out


def _write_children(plan: CommissionPlan, tiers, rates) -> None:
    if tiers is not None:
        plan.tiers.all().delete()
        PlanTier.objects.bulk_create([PlanTier(plan=plan, threshold=t, rate=r) for t, r in tiers])
    if rates is not None:
        plan.category_rates.all().delete()
        CategoryRate.objects.bulk_create([CategoryRate(plan=plan, category=c, rate=r) for c, r in rates])


def _unique_name(plan: CommissionPlan) -> None:
    if CommissionPlan.objects.filter(name__iexact=plan.name).exclude(pk=plan.pk).exists():
        raise ValidationFailed({"name": f"A plan named {plan.name} exists already."})


@transaction.atomic
def plan_create(*, actor, data: dict) -> CommissionPlan:
    """``data``: name, basis (deals|orders), base_rate, cap, clawback_days, tiers [{threshold, rate}],
    category_rates [{category, rate}]."""
    access.require_plans_admin(actor)
    values, tiers, rates = _plan_values(data, None)
    plan = CommissionPlan(**values)
    _unique_name(plan)
    configwrites.clean(plan)
    plan.save(force_insert=True)
    _write_children(plan, tiers or [], rates or [])
    changelog.log_create(actor, plan)
    return plan


@transaction.atomic
def plan_update(plan: CommissionPlan, *, actor, data: dict) -> CommissionPlan:
    """Fields given change; ``tiers`` or ``category_rates`` given replace the plan's. Statements already
    written keep what they paid; the next recalculation uses the new terms."""
    access.require_plans_admin(actor)
    values, tiers, rates = _plan_values(data, plan)
    fresh = configwrites.locked(CommissionPlan, plan.pk)
    before = changelog.snapshot(fresh)
    for key, value in values.items():
        setattr(fresh, key, value)
    _unique_name(fresh)
    configwrites.clean(fresh)
    fresh.save()
    _write_children(fresh, tiers, rates)
    changelog.log_update(actor, fresh, before)
    return fresh


@transaction.atomic
def plan_delete(plan: CommissionPlan, *, actor) -> None:
    access.require_plans_admin(actor)
    if plan.assignments.exists():
        raise ValidationFailed({"plan": f"{plan} is assigned to reps; remove the assignments first."})
    configwrites.delete(plan, actor=actor)


def _rep(rep_id) -> object:
    user = get_user_model().objects.filter(pk=rep_id, is_active=True).first() if isinstance(rep_id, int) else None
    if user is None:
        raise ValidationFailed({"rep_id": f"No active user with id {rep_id}."})
    return user


@transaction.atomic
def assignment_create(*, actor, rep_id: int, plan_id: int, period: str) -> PlanAssignment:
    """Put a rep on a plan for a period (``2026-05``, ``FY2026-Q2``, ``FY2026``); refused when it
    overlaps another of the rep's assignments, whatever its kind."""
    rep = _rep(rep_id)
    access.require_rep(actor, rep.pk, "change")
    plan = CommissionPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise ValidationFailed({"plan_id": f"No plan with id {plan_id}."})
    p = periods.parse(period, fiscal_year_start())
    # Locks the rep's assignments so two writes at once cannot both pass the overlap check.
    mine = PlanAssignment.objects.select_for_update().filter(rep=rep)
    clash = mine.filter(period_start__lt=p.end, period_end__gt=p.start).select_related("plan").first()
    if clash is not None:
        held = f"{rep} is on {clash.plan} from {clash.period_start} to {clash.period_end}"
        raise ValidationFailed({"period": f"{held}, which overlaps {p.key}."})
    row = PlanAssignment(rep=rep, plan=plan, period_kind=p.kind, period_start=p.start, period_end=p.end)
    return configwrites.create(row, actor=actor)


@transaction.atomic
def assignment_delete(row: PlanAssignment, *, actor) -> None:
    access.require_rep(actor, row.rep_id, "change")
    configwrites.delete(row, actor=actor)


def _split_values(raw, errors: dict) -> list[tuple[int, Decimal]]:
    if not isinstance(raw, list):
        errors["splits"] = "A list of {user_id, percent}."
        return []
    out, users = [], set()
    for i, row in enumerate(raw):
        row = row if isinstance(row, dict) else {}
        user_id = row.get("user_id")
        if not isinstance(user_id, int) or not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            errors[f"splits.{i}.user_id"] = f"No active user with id {user_id}."
        elif user_id in users:
            errors[f"splits.{i}.user_id"] = "A user appears once in a deal's splits."
        users.add(user_id)
        percent = _decimal(row.get("percent"), f"splits.{i}.percent", errors, high=Decimal(100), places=2)
        if percent is not None and percent == 0:
            errors[f"splits.{i}.percent"] = "A share above 0 (leave the user out instead)."
        out.append((user_id, percent))
    if out and not errors:
        total = sum(p for _, p in out)
        if total != 100:
            errors["splits"] = f"The shares sum to {total.normalize():f} %; they must sum to 100 %."
    return out


@transaction.atomic
def splits_set(deal: Deal, *, actor, splits: list) -> list[DealSplit]:
    """Replace a deal's splits (``[{user_id, percent}]`` summing to 100; ``[]``: the owner gets it all).
    Whoever may change the deal may split it."""
    deal = common.lock_for_write(deal, actor=actor, action="change", version=None)
    errors: dict = {}
    values = _split_values(splits, errors)
    common.raise_if(errors)
    for old in DealSplit.objects.filter(deal=deal):
        configwrites.delete(old, actor=actor)
    rows = [configwrites.create(DealSplit(deal=deal, user_id=u, percent=p), actor=actor) for u, p in values]
    from crm.commissions import jobs  # the statements these shares feed are recalculated

    jobs.enqueue_for("deal", deal.pk)
    return rows


def splits_of(deal_id: int, actor) -> list[DealSplit]:
    deal = common.get_visible(Deal, actor, deal_id)
    return list(DealSplit.objects.filter(deal=deal).select_related("user"))


def get_plan(pk: int) -> CommissionPlan:
    plan = CommissionPlan.objects.filter(pk=pk).prefetch_related("tiers", "category_rates").first()
    if plan is None:
        raise NotFound(f"No commission plan with id {pk}.")
    return plan


def visible_plans(actor):
    """The plans ``actor`` may read: every plan for admins and for whoever may change some rep's
    commissions (they assign plans); for a rep, only the plans they are or were on. 403 without the grant."""
    access.visible_rep_ids(actor, "view")
    plans_qs = CommissionPlan.objects.prefetch_related("tiers", "category_rates")
    if access.may_assign(actor):
        return plans_qs
    return plans_qs.filter(assignments__rep_id=actor.pk).distinct()


def get_visible_plan(actor, pk: int) -> CommissionPlan:
    """One plan ``actor`` may read; 404 for a plan that is not theirs (as for records)."""
    plan = visible_plans(actor).filter(pk=pk).first()
    if plan is None:
        raise NotFound(f"No commission plan with id {pk}.")
    return plan
