"""/commissions/plans/: the plans (admins write them; managers read them all and assign them to their
reps; a rep reads only the plans they are on) and the assignments of reps to plans per period. Every
write goes through crm/commissions/plans.py; its refusals are shown beside the fields (422)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.commissions import access, plans
from crm.commissions.models import Basis, PlanAssignment
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.forecast import periods
from crm.forecast.categories import fiscal_year_start
from crm.web.views.helpers import page_errors

SPARE_ROWS = 2
MAX_ROWS = 50  # the row counts come from the client
# The form's row groups: (service key, form prefix, the row's two fields).
GROUPS = (("tiers", "tier", ("threshold", "rate")), ("category_rates", "cat", ("category", "rate")))


def _text(value) -> str:
    return "" if value is None else f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def _rows(request, prefix: str, names: tuple[str, str]) -> list[dict]:
    """A group's filled rows as the service takes them (blank rows left out, the rest checked there)."""
    count = request.POST.get(f"{prefix}_rows", "")
    out = []
    for i in range(min(int(count), MAX_ROWS) if count.isdigit() else 0):
        row = {n: request.POST.get(f"{prefix}_{n}_{i}", "").strip() for n in names}
        if any(row.values()):
            out.append(row)
    return out


def _posted(request) -> dict:
    days = request.POST.get("clawback_days", "").strip()
    data = {
        "name": request.POST.get("name", ""),
        "basis": request.POST.get("basis", ""),
        "base_rate": request.POST.get("base_rate", "").strip(),
        "cap": request.POST.get("cap", "").strip() or None,
        "clawback_days": int(days) if days.isdigit() and len(days) < 6 else days,
    }
    for key, prefix, names in GROUPS:
        data[key] = _rows(request, prefix, names)
    return data


def _of_plan(plan) -> dict:
    data = {f: _text(getattr(plan, f)) for f in plans.PLAN_FIELDS}
    data["tiers"] = [{"threshold": _text(t.threshold), "rate": _text(t.rate)} for t in plan.tiers.all()]
    data["category_rates"] = [{"category": c.category, "rate": _text(c.rate)} for c in plan.category_rates.all()]
    return data


def _form_context(data: dict, errors: dict) -> dict:
    """The form's values, with each row's errors beside it (the service names them ``tiers.1.rate``)."""
    groups = []
    for key, prefix, names in GROUPS:
        rows = [*data.get(key, []), *[dict.fromkeys(names, "")] * SPARE_ROWS]
        for i, row in enumerate(rows):
            row["errors"] = [errors[f"{key}.{i}.{n}"] for n in names if f"{key}.{i}.{n}" in errors]
        groups.append({"key": key, "prefix": prefix, "rows": rows, "error": errors.get(key)})
    return {"values": data, "errors": errors, "tiers": groups[0], "rates": groups[1], "bases": Basis.choices}


@login_required
@page_errors
def plans_page(request):
    context = {
        "plans": plans.visible_plans(request.user),
        "may_write": _is_plans_admin(request.user),
        **_assignments_context(request.user),
    }
    return render(request, "commissions/plans.html", context)


def _is_plans_admin(user) -> bool:
    try:
        access.require_plans_admin(user)
    except PermissionDenied:  # the page just offers no edit buttons
        return False
    return True


def _assignments_context(user, errors=None, values=None) -> dict:
    ids = access.visible_rep_ids(user, "view")
    rows = PlanAssignment.objects.select_related("rep", "plan").order_by("-period_start", "rep__username")
    rows = rows if ids is None else rows.filter(rep_id__in=ids)
    fy = fiscal_year_start()
    listed = [
        {
            "a": a,
            "period": periods.of_start(a.period_kind, a.period_start, fy).key,
            "may": access.may(user, "change", a.rep_id),
        }
        for a in rows[:500]
    ]
    reps = []
    if access.may_assign(user):
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        reps = [u for u in users if access.may(user, "change", u.pk)]
    default = periods.containing("month", timezone.localdate(), fy).key
    return {
        "assignments": listed,
        "reps": reps,
        "all_plans": plans.visible_plans(user) if reps else [],
        "assign_errors": errors or {},
        "assign_values": values or {"rep_id": "", "plan_id": "", "period": default},
    }


@login_required
@page_errors
def plan_page(request, pk: int):
    plan = plans.get_visible_plan(request.user, pk)
    return render(request, "commissions/plan.html", {"plan": plan, "may_write": _is_plans_admin(request.user)})


@login_required
@page_errors
def plan_new(request):
    access.require_plans_admin(request.user)
    data, errors = {f: "" for f in plans.PLAN_FIELDS} | {"basis": Basis.DEALS, "clawback_days": "90"}, {}
    if request.method == "POST":
        data = _posted(request)
        try:
            plan = plans.plan_create(actor=request.user, data=data)
        except ValidationFailed as exc:
            errors = exc.fields or {"name": exc.message}
        else:
            messages.success(request, f"Plan {plan.name} created.")
            return redirect("commissions:plan", pk=plan.pk)
    context = {**_form_context(data, errors), "plan": None}
    return render(request, "commissions/plan_form.html", context, status=422 if errors else 200)


@login_required
@page_errors
def plan_edit(request, pk: int):
    access.require_plans_admin(request.user)
    plan = plans.get_plan(pk)
    data, errors = _of_plan(plan), {}
    if request.method == "POST":
        data = _posted(request)
        try:
            plans.plan_update(plan, actor=request.user, data=data)
        except ValidationFailed as exc:
            errors = exc.fields or {"name": exc.message}
        else:
            messages.success(request, f"Plan {data['name'].strip()} saved; the next recalculation uses its terms.")
            return redirect("commissions:plan", pk=plan.pk)
    context = {**_form_context(data, errors), "plan": plan}
    return render(request, "commissions/plan_form.html", context, status=422 if errors else 200)


@login_required
@page_errors
@require_POST
def plan_delete(request, pk: int):
    access.require_plans_admin(request.user)
    plan = plans.get_plan(pk)
    try:
        plans.plan_delete(plan, actor=request.user)
    except ValidationFailed as exc:
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
        return redirect("commissions:plan", pk=pk)
    messages.success(request, f"Plan {plan.name} deleted.")
    return redirect("commissions:plans")


def _int(raw: str):
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else raw or None


@login_required
@page_errors
@require_POST
def assign(request):
    values = {k: request.POST.get(k, "") for k in ("rep_id", "plan_id", "period")}
    try:
        if not values["period"].strip():
            raise ValidationFailed({"period": "Name the period: 2026-05, FY2026-Q2 or FY2026."})
        plan_id = _int(values["plan_id"])
        if not isinstance(plan_id, int):
            raise ValidationFailed({"plan_id": "Choose a plan."})
        row = plans.assignment_create(
            actor=request.user, rep_id=_int(values["rep_id"]), plan_id=plan_id, period=values["period"].strip()
        )
    except ValidationFailed as exc:
        context = {
            "plans": plans.visible_plans(request.user),
            "may_write": _is_plans_admin(request.user),
            **_assignments_context(request.user, exc.fields or {"period": exc.message}, values),
        }
        return render(request, "commissions/plans.html", context, status=422)
    messages.success(request, f"{row.rep} is on {row.plan} from {row.period_start}.")
    return redirect("commissions:plans")


@login_required
@page_errors
@require_POST
def unassign(request, pk: int):
    row = PlanAssignment.objects.select_related("rep", "plan").filter(pk=pk).first()
    if row is None or not access.may(request.user, "view", row.rep_id):
        raise NotFound(f"No assignment with id {pk}.")
    plans.assignment_delete(row, actor=request.user)
    messages.success(request, f"{row.rep} is no longer on {row.plan} from {row.period_start}.")
    return redirect("commissions:plans")
