"""/forecast/: the forecast page, its drill-down, managers' adjustments, the quota grid and import,
and the admins' forecast settings. Every number and deal comes from crm/forecast/selectors.py (restricted
reads); every write is a service call, its errors shown in place."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.core.errors import ServiceError, ValidationFailed
from crm.forecast import backtest, categories, periods, quota_import, quotas, selectors, snapshots
from crm.forecast.methods import CATEGORY_COLUMNS
from crm.forecast.models import Category, Quota, StageCategory
from crm.forecast.web.period_picker import period_from_request, picker
from crm.money.rates import MissingRate
from crm.records.models import Pipeline
from crm.web.views.helpers import admin_page, page_errors

COLUMNS = (
    ("closed", "Closed"),
    ("commit_total", "Commit"),
    ("best_case_total", "Best case"),
    ("pipeline", "Pipeline"),
    ("stage", "Weighted (stage)"),
    ("history", "Weighted (history)"),
    ("age", "Age-adjusted"),
    ("predicted", "Predicted"),
)


@login_required
@page_errors
def forecast_page(request):
    period = period_from_request(request)
    context = {**picker(period), "columns": COLUMNS, "error": None, "forecast": None}
    try:
        context["forecast"] = selectors.forecast(request.user, period)
    except MissingRate as exc:
        context["error"] = f"{exc.message}: add the rate under Settings → Currencies to see the forecast."
    if context["forecast"]:
        try:
            context.update(_accuracy(request, period))
        except MissingRate as exc:  # a past period's rate: the forecast itself still shows
            context["accuracy_error"] = f"{exc.message}: add it under Settings → Currencies to see the backtest."
    snapshots.install_schedule()
    if context["forecast"]:
        for team in context["forecast"]["teams"]:
            for rep in team["reps"]:
                rep["may_adjust"] = rep["id"] is not None and quotas.may_write_user(request.user, rep["id"])
    return render(request, "forecast/page.html", context)


def _accuracy(request, period: periods.Period) -> dict:
    """The backtest of the viewer's scope over the last periods of this kind, the method it found most
    accurate (the default), the one shown (``?method=`` picks another) and how that figure moved."""
    result = backtest.cached_run(request.user, kind=period.kind)
    chosen = request.GET.get("method")
    default = result["best"] or "stage"
    method = chosen if chosen in backtest.LABELS else default
    moved = snapshots.history(request.user, period, method)
    chart = {
        "weeks": [w.isoformat() for w in moved["weeks"]],
        "series": [
            {"name": s["name"], "values": [str(v) if v is not None else None for v in s["values"]]}
            for s in moved["series"]
        ],
    }
    return {
        "backtest": result,
        "method": method,
        "method_label": backtest.LABELS[method],
        "default_method": default,
        "methods": backtest.METHODS,
        "moved": moved,
        "moved_rows": list(zip(moved["weeks"], zip(*[s["values"] for s in moved["series"]], strict=True), strict=True))
        if moved["series"]
        else [],
        "moved_chart": chart,
    }


@login_required
@page_errors
def deals_page(request):
    period = period_from_request(request)
    narrow = {}
    for name in ("owner", "team", "pipeline"):
        value = request.GET.get(name, "")
        if value.isdigit() and len(value) < 19:
            narrow[f"{name}_id"] = int(value)
    category = request.GET.get("category")
    if category not in (*CATEGORY_COLUMNS, None):
        category = None
    deals = selectors.drill_down(request.user, period, category=category, **narrow)
    context = {**picker(period), "deals": deals, "category": category, "query": request.GET.urlencode()}
    context["categories"] = [(c.value, c.label) for c in Category if c in categories.OPEN_CATEGORIES]
    return render(request, "forecast/deals.html", context)


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def adjust_page(request, rep_id: int):
    period = period_from_request(request)
    history = quotas.adjustment_history(request.user, rep_id, period)  # 404 unless the reader may see the rep
    rep = get_user_model().objects.filter(pk=rep_id).first()
    if rep is None:
        raise Http404("No such user.")
    errors, values = {}, {"amount": "", "note": ""}
    if request.method == "POST":
        values = {"amount": request.POST.get("amount", "").strip(), "note": request.POST.get("note", "")}
        try:
            amount = Decimal(values["amount"])
        except InvalidOperation:
            errors["amount"] = "Enter an amount, e.g. 12500.00."
        else:
            try:
                quotas.adjustment_add(
                    actor=request.user, rep_id=rep_id, period=period, amount=amount, note=values["note"]
                )
            except ValidationFailed as exc:
                errors = exc.fields
            else:
                messages.success(request, "Forecast adjusted.")
                return redirect(f"{reverse('forecast:adjust', args=[rep_id])}?{urlencode({'period': period.key})}")
    context = {
        **picker(period),
        "rep": rep,
        "history": history,
        "errors": errors,
        "values": values,
        "may_adjust": quotas.may_write_user(request.user, rep_id),
    }
    return render(request, "forecast/adjust.html", context, status=422 if errors else 200)


def _grid_rows(user, period: periods.Period) -> tuple[list, list]:
    admin = policy_for(user).is_admin
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    teams = Team.objects.order_by("name")
    if not admin:
        users = users.filter(pk__in=Profile.objects.filter(team__manager_id=user.pk).values("user_id"))
        teams = teams.filter(manager_id=user.pk)
    stored = Quota.objects.filter(period_kind=period.kind, period_start=period.start)
    by_user = {q.user_id: q for q in stored if q.user_id}
    by_team = {q.team_id: q for q in stored if q.team_id}
    return [(u, by_user.get(u.pk)) for u in users], [(t, by_team.get(t.pk)) for t in teams]


def _decimal(text: str, name: str, errors: dict) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        errors[name] = "Enter an amount, e.g. 12500.00."
        return None


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def quotas_page(request):
    """The grid: one row per user and team the reader may set quotas for; saved all or nothing."""
    period = period_from_request(request)
    users, teams = _grid_rows(request.user, period)
    errors: dict[str, str] = {}
    if request.method == "POST":
        with transaction.atomic():
            for kind, rows in (("user", users), ("team", teams)):
                for obj, stored in rows:
                    _save_grid_row(request, period, kind, obj, stored, errors)
            if errors:
                transaction.set_rollback(True)
        if not errors:
            messages.success(request, "Quotas saved.")
            return redirect(f"{reverse('forecast:quotas')}?{urlencode({'period': period.key})}")
    context = {**picker(period), "users": users, "teams": teams, "errors": errors, "posted": request.POST}
    return render(request, "forecast/quotas.html", context, status=422 if errors else 200)


def _save_grid_row(request, period, kind, obj, stored, errors) -> None:
    prefix = f"{kind}-{obj.pk}"
    amount = _decimal(request.POST.get(f"{prefix}-amount", ""), f"{prefix}-amount", errors)
    count_text = request.POST.get(f"{prefix}-count", "").strip()
    rolls_up = kind == "team" and request.POST.get(f"{prefix}-rolls") == "on"
    if not count_text.isdigit() and count_text:
        errors[f"{prefix}-count"] = "A whole number of deals."
        return
    if amount is None and not rolls_up and not count_text:
        return  # an empty row: no quota (an existing one stays: the grid never deletes)
    try:
        quotas.quota_set(
            actor=request.user,
            period=period,
            amount=amount,
            deal_count=int(count_text) if count_text else None,
            rolls_up=rolls_up,
            **({"user_id": obj.pk} if kind == "user" else {"team_id": obj.pk}),
        )
    except ServiceError as exc:
        for name, message in (exc.fields or {"amount": exc.message}).items():
            errors[f"{prefix}-{'count' if name == 'deal_count' else 'amount'}"] = message


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def import_page(request):
    """CSV quotas: pasted or uploaded, previewed, then written all or nothing on confirmation."""
    text, rows, errors, written = "", None, {}, False
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            text = upload.read().decode("utf-8-sig") if upload else request.POST.get("csv", "")
        except UnicodeDecodeError:
            errors = {"csv": "The file is not UTF-8 text."}
        if not errors:
            confirm = request.POST.get("confirm") == "yes"
            try:
                rows = quota_import.quota_import(text, actor=request.user, preview=not confirm)
            except ValidationFailed as exc:
                errors, rows = exc.fields, None
            else:
                if confirm:
                    messages.success(request, f"{len(rows)} quotas saved.")
                    return redirect("forecast:quotas")
    context = {"text": text, "rows": rows, "errors": sorted(errors.items()), "written": written}
    return render(request, "forecast/import.html", context, status=422 if errors else 200)


admins_only = admin_page(categories.WHAT)


@admins_only
@require_http_methods(["GET", "POST"])
def settings_page(request):
    pipelines = list(Pipeline.objects.prefetch_related("stages"))
    mapping = dict(StageCategory.objects.values_list("stage_id", "category"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        with transaction.atomic():
            try:
                month = int(request.POST.get("fiscal_year_start_month", ""))
                categories.settings_update(actor=request.user, fiscal_year_start_month=month)
            except (ValueError, ValidationFailed):
                errors["fiscal_year_start_month"] = "Choose a month."
            for pipeline in pipelines:
                for stage in pipeline.stages.all():
                    if stage.is_won or stage.is_lost:
                        continue
                    value = request.POST.get(f"stage-{stage.pk}") or None
                    if value == mapping.get(stage.pk) or (value == Category.PIPELINE and stage.pk not in mapping):
                        continue
                    try:
                        categories.stage_category_set(stage, value, actor=request.user)
                    except ValidationFailed as exc:
                        errors[f"stage-{stage.pk}"] = exc.fields.get("category", exc.message)
            if errors:
                transaction.set_rollback(True)
        if not errors:
            messages.success(request, "Forecast settings saved.")
            return redirect("forecast:settings")
    context = {
        "month": categories.fiscal_year_start(),
        "months": [(i, timezone.datetime(2000, i, 1).strftime("%B")) for i in range(1, 13)],
        "pipelines": [
            (p, [(s, mapping.get(s.pk, categories.default_of(s, mapping))) for s in p.stages.all()]) for p in pipelines
        ],
        "choices": [(c.value, c.label) for c in Category if c not in (Category.CLOSED,)],
        "errors": errors,
    }
    return render(request, "forecast/settings.html", context, status=422 if errors else 200)


@login_required
@page_errors
@require_http_methods(["POST"])
def deal_category(request, pk: int):
    """The owner's override from the drill-down list (empty: back to the stage's default)."""
    try:
        categories.deal_category_set(pk, request.POST.get("category") or None, actor=request.user)
    except ValidationFailed as exc:
        messages.error(request, exc.fields.get("category", exc.message))
    else:
        messages.success(request, "Forecast category saved.")
    back = request.POST.get("back", "")
    return redirect(f"{reverse('forecast:deals')}?{back}" if back and "\n" not in back else reverse("forecast:deals"))
