"""The pipeline board: a column per stage with count, total and weighted amount; cards load per column
in pages (so 5,000 open deals stay quick) and a drop calls deal_move_stage like the API does."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.core.paging import Sort, page
from crm.records.models import Deal, Pipeline, Stage
from crm.records.selectors import get_for
from crm.records.services.deals import deal_move_stage
from crm.web.forms.base import user_choices
from crm.web.templatetags.web import money
from crm.web.views.helpers import page_errors

CARDS_PER_PAGE = 20
CARD_ORDER = Sort("stage_changed_at", descending=True)


def _pipeline(request) -> Pipeline | None:
    pipelines = Pipeline.objects.order_by("order", "id")
    raw = request.GET.get("pipeline")
    if raw:
        found = pipelines.filter(pk=raw).first() if raw.isdigit() else None
        if found is None:
            raise Http404("No such pipeline.")
        return found
    return pipelines.order_by("-is_default", "order", "id").first()


def board_filters(request) -> tuple[Q, dict]:
    """The owner/team/close-date filters as a Q, plus their values for the form."""
    q, values = Q(), {}
    owner = request.GET.get("owner", "")
    if owner.isdigit():
        q &= Q(owner_id=int(owner))
        values["owner"] = owner
    team = request.GET.get("team", "")
    if team.isdigit():
        members = list(Profile.objects.filter(team_id=int(team)).values_list("user_id", flat=True))
        manager = Team.objects.filter(pk=int(team)).values_list("manager_id", flat=True).first()
        q &= Q(owner_id__in=[m for m in [*members, manager] if m])
        values["team"] = team
    for name, lookup in (("close_from", "gte"), ("close_to", "lte")):
        day = parse_date(request.GET.get(name, "") or "")
        if day:
            q &= Q(**{f"expected_close_date__{lookup}": day})
            values[name] = day.isoformat()
    return q, values


def _deals(request, pipeline: Pipeline):
    q, _ = board_filters(request)
    return Deal.objects.restrict(request.user).filter(pipeline=pipeline).filter(q)


def column_stats(deals, stages) -> dict[int, dict]:
    """Per stage: count, and total and weighted amounts per currency, in one grouped query."""
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100, output_field=DecimalField())
    rows = deals.values("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(weighted))
    stats = {s.pk: {"count": 0, "total": defaultdict(int), "weighted": defaultdict(int)} for s in stages}
    for row in rows.order_by():
        entry = stats.get(row["stage_id"])
        if entry is None:
            continue
        entry["count"] += row["n"]
        entry["total"][row["currency"]] += row["total"] or 0
        entry["weighted"][row["currency"]] += row["weighted"] or 0
    return {pk: _formatted(s) for pk, s in stats.items()}


def _formatted(s: dict) -> dict:
    def fmt(amounts):
        parts = [money(v, c) for c, v in sorted(amounts.items()) if v]
        return " + ".join(parts) or money(0)

    return {"count": s["count"], "total": fmt(s["total"]), "weighted": fmt(s["weighted"])}


def _cards(request, deals, stage, cursor=None):
    qs = deals.filter(stage=stage).select_related("company", "owner")
    return page(qs, CARD_ORDER, limit=CARDS_PER_PAGE, cursor=cursor)


@login_required
def board(request):
    if not policy_for(request.user).allows("deal", "view"):
        raise PermissionDenied("You may not see deals.")
    pipeline = _pipeline(request)
    context = {"pipeline": pipeline, "pipelines": Pipeline.objects.order_by("order", "id")}
    if pipeline is not None:
        stages = list(pipeline.stages.order_by("order", "id"))
        deals = _deals(request, pipeline)
        stats = column_stats(deals, stages)
        columns = []
        for stage in stages:
            cards, nxt = _cards(request, deals, stage)
            columns.append({"stage": stage, "stats": stats[stage.pk], "cards": cards, "next": nxt})
        _, values = board_filters(request)
        context |= {
            "columns": columns,
            "stages": stages,
            "filters": values,
            "users": user_choices(blank="Any owner"),
            "teams": Team.objects.order_by("name"),
            "filter_query": _filter_query(request),
            "may_move": policy_for(request.user).allows("deal", "change"),
        }
    return render(request, "web/board.html", context)


def _filter_query(request) -> str:
    """The board's filters, passed on to the lazy-loaded columns."""
    keep = {k: v for k, v in request.GET.items() if k in ("pipeline", "owner", "team", "close_from", "close_to") and v}
    return urlencode(keep)


@login_required
@page_errors
def board_column(request, stage_id: int):
    """The next cards of one column (the sentinel at the end of a column asks for them when it scrolls into view)."""
    stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
    if stage is None:
        raise Http404("No such stage.")
    deals = _deals(request, stage.pipeline)
    cards, nxt = _cards(request, deals, stage, request.GET.get("cursor") or None)
    context = {
        "cards": cards,
        "next": nxt,
        "stage": stage,
        "stages": list(stage.pipeline.stages.order_by("order", "id")),
        "filter_query": _filter_query(request),
        "may_move": policy_for(request.user).allows("deal", "change"),
    }
    return render(request, "web/parts/board_cards.html", context)


@login_required
@require_POST
def deal_move(request, pk: int):
    """Drop a card on a stage: JSON with the new card and both columns' numbers, or the error."""
    try:
        deal = get_for(Deal, request.user, pk, "change")
        stage = Stage.objects.filter(pk=_int(request.POST.get("stage_id")), pipeline_id=deal.pipeline_id).first()
        if stage is None:
            raise ValidationFailed({"stage_id": "That stage is not in this deal's pipeline."})
        old_stage_id = deal.stage_id
        lost_reason = request.POST.get("lost_reason")
        saved = deal_move_stage(
            deal,
            stage,
            actor=request.user,
            lost_reason=lost_reason.strip() if lost_reason else None,
            version=_int(request.POST.get("version")),
        )
    except ServiceError as exc:
        if not _wants_json(request):
            if isinstance(exc, NotFound):
                raise Http404(exc.message) from None
            messages.error(request, exc.fields.get("lost_reason") or exc.message)
            return redirect("web:record-detail", "deals", pk)
        return JsonResponse({"error": exc.message, "code": exc.code, "fields": exc.fields}, status=exc.status)
    if not _wants_json(request):  # the plain form on the deal page
        messages.success(request, f"Moved to {stage.name}.")
        return redirect("web:record-detail", "deals", pk)
    deal = Deal.objects.select_related("company", "owner", "pipeline").get(pk=saved.obj.pk)
    stages = list(deal.pipeline.stages.order_by("order", "id"))
    stats = column_stats(_deals(request, deal.pipeline), stages)
    card = render_to_string(
        "web/parts/board_card.html", {"deal": deal, "stages": stages, "may_move": True}, request=request
    )
    return JsonResponse(
        {
            "card": card,
            "version": deal.version,
            "stats": {
                str(pk): render_to_string("web/parts/board_stats.html", {"stats": stats[pk]})
                for pk in (old_stage_id, deal.stage_id)
            },
        }
    )


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
