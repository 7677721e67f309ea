"""/analytics/: the sales dashboard (crm/sales/analytics.py, the same figures as /api/v1/analytics/sales)
and its drill-down. Bad filters are a message on the page, never a 500; every number links to the
deals behind it, read through the same restricted scope."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from crm.access.models import Team
from crm.core.errors import BadRequest, ValidationFailed
from crm.forecast import categories, periods
from crm.forecast.web.period_picker import period_from_request, picker
from crm.money.currencies import organization_currency
from crm.money.rates import MissingRate
from crm.records.models import Pipeline
from crm.sales import analytics, breakdowns
from crm.web.views.helpers import page_errors

INTS = ("owner_id", "team_id", "pipeline_id")


def _filters(request) -> tuple[analytics.Filters, dict]:
    """The filters of the query string and the errors of the ones that are not ids."""
    values, errors = {}, {}
    for name in INTS:
        raw = request.GET.get(name, "").strip()
        if raw:
            if raw.isdigit() and 0 < int(raw) < 2**63:
                values[name] = int(raw)
            else:
                errors[name] = f"{raw!r} is not an id."
    source = request.GET.get("source", "").strip()[:100]
    return analytics.Filters(**values, source=source or None), errors


def _links(period, filters: analytics.Filters) -> dict:
    """The drill-down address of each figure."""
    base = reverse("analytics:deals")

    def link(figure, period=period, **extra):
        return f"{base}?{urlencode({'figure': figure, 'period': period.key, **filters.as_params(), **extra})}"

    return {"link": link}


def _chart(result: dict, period, previous, links) -> dict:
    """What charts.js draws; the same numbers are in the tables below the charts."""
    cur, prev = result["current"], result["previous"]
    figures = [("won", "Won"), ("lost", "Lost"), ("open", "Open"), ("new", "New")]
    return {
        "labels": [label for _, label in figures],
        "series": [
            {
                "name": period.key,
                "values": [cur[f"{f}_count"] for f, _ in figures],
                "links": [links(f) for f, _ in figures],
            },
            {
                "name": previous.key,
                "values": [prev[f"{f}_count"] for f, _ in figures],
                "links": [links(f, period=previous) for f, _ in figures],
            },
        ],
        "stages": {
            "labels": [f"{s['pipeline']}: {s['stage']}" for s in cur["stages"] if s["conversion"] is not None],
            "values": [str(s["conversion"] * 100) for s in cur["stages"] if s["conversion"] is not None],
        },
    }


@login_required
@page_errors
def dashboard(request):
    period = period_from_request(request)
    previous = picker(period)["previous"]
    filters, errors = _filters(request)
    context = {**picker(period), "filters": filters, "errors": errors, "result": None, "error": None}
    context.update(_choices(request.user))
    if not errors:
        try:
            result = analytics.sales(request.user, period, previous, filters)
            # Both or neither: a missing rate in the breakdowns hides the figures as it does above.
            context["more"] = _breakdowns(request.user, period, previous, filters)
            context["result"] = result
        except (ValidationFailed, BadRequest) as exc:
            context["errors"] = exc.fields or {"filters": exc.message}
        except MissingRate as exc:
            context["error"] = f"{exc.message}: add the rate under Settings → Currencies to see the figures."
    if context["result"]:
        link = _links(period, filters)["link"]
        context["chart"] = _chart(context["result"], period, previous, link)
        context["links"] = {f: link(f) for f in analytics.FIGURES}
        context["prev_links"] = {f: link(f, period=previous) for f in analytics.FIGURES}
        context["reasons"] = [
            {**r, "link": link("lost", lost_reason=r["reason"])} for r in context["result"]["current"]["lost_reasons"]
        ]
        _link_breakdowns(context["more"], context["chart"], period, filters, link)
    context["currency"] = organization_currency()
    return render(request, "analytics/page.html", context)


def _breakdowns(user, period, previous, filters) -> dict:
    """By product category, activities per rep, the revenue trend (crm/sales/breakdowns.py)."""
    return {
        "categories": breakdowns.by_category(user, period, previous, filters),
        "activities": breakdowns.activity_counts(user, period, previous, filters),
        "trend": breakdowns.revenue_trend(user, period, filters),
    }


def _link_breakdowns(more: dict, chart: dict, period, filters, link) -> None:
    """Each number's drill-down, and what charts.js draws of them."""
    previous = picker(period)["previous"]
    for row in more["categories"]:
        row["link"] = link("category", category=row["category"])
        row["prev_link"] = link("category", period=previous, category=row["category"])
    base = reverse("analytics:activities")
    for row in more["activities"]:
        if row["owner_id"] is not None:
            params = {"period": period.key, **filters.as_params(), "owner_id": row["owner_id"]}
            row["link"] = f"{base}?{urlencode(params)}"
    for row in more["trend"]:
        row["link"] = link("won", period=periods.parse(row["month"], categories.fiscal_year_start()))
    chart["categories"] = {
        "labels": [r["category"] or "(no category)" for r in more["categories"]],
        "values": [str(r["amount"]) for r in more["categories"]],
        "previous": [str(r["previous_amount"]) for r in more["categories"]],
        "links": [r["link"] for r in more["categories"]],
    }
    chart["activities"] = {
        "labels": [r["owner"] for r in more["activities"]],
        "values": [r["total"] for r in more["activities"]],
        "previous": [r["previous_total"] for r in more["activities"]],
        "links": [r.get("link") for r in more["activities"]],
    }
    chart["trend"] = {
        "labels": [r["month"] for r in more["trend"]],
        "values": [str(r["won_amount"]) for r in more["trend"]],
        "previous": [str(r["previous_year_amount"]) for r in more["trend"]],
        "links": [r["link"] for r in more["trend"]],
    }


def _choices(user) -> dict:
    """The filter menus: pipelines, teams and active users (names only; the figures stay restricted)."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return {
        "pipelines": Pipeline.objects.order_by("name"),
        "teams": Team.objects.order_by("name"),
        "owners": users,
    }


@login_required
@page_errors
def deals_page(request):
    period = period_from_request(request)
    filters, errors = _filters(request)
    figure = request.GET.get("figure", "")
    reason = request.GET.get("lost_reason")
    category = request.GET.get("category")
    deals = []
    if figure not in (*analytics.FIGURES, "category"):
        errors["figure"] = f"A figure is one of {', '.join(analytics.FIGURES)}, category."
    if not errors:
        try:
            scope = analytics.scope(request.user, filters)
            if figure == "category":
                ids = breakdowns.category_deal_ids(request.user, period, filters, (category or "")[:100])
                behind = scope.filter(pk__in=ids)
            else:
                behind = analytics.deals_behind(scope, period, figure, lost_reason=reason)
            deals = list(behind.select_related("stage", "owner").order_by("id")[:500])
        except (ValidationFailed, BadRequest) as exc:
            errors = exc.fields or {"filters": exc.message}
        except MissingRate as exc:
            errors = {"rates": exc.message}
    context = {**picker(period), "deals": deals, "figure": figure, "lost_reason": reason, "errors": errors}
    context["category"] = category
    return render(request, "analytics/deals.html", context)


@login_required
@page_errors
def activities_page(request):
    """The activities behind a rep's count: the ones the viewer may see, in the period."""
    period = period_from_request(request)
    filters, errors = _filters(request)
    rows = []
    if not errors:
        try:
            found = breakdowns.activities_in(request.user, period, filters)
            rows = list(found.select_related("owner").order_by("occurred_at", "id")[:500])
        except (ValidationFailed, BadRequest) as exc:
            errors = exc.fields or {"filters": exc.message}
    context = {**picker(period), "activities": rows, "errors": errors}
    return render(request, "analytics/activities.html", context)
