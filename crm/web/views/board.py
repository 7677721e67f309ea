"""The pipeline board: a column per stage with count, total and weighted amount; cards load per column
in pages (so 5,000 open deals stay quick) and a drop calls deal_move_stage like the API does. The
columns, cards and totals come from crm.sales.selectors.board, which the API board reads too."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from crm.access.models import Team
from crm.access.policy import policy_for
from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.records.models import Deal, Pipeline, Stage
from crm.records.selectors import get_for
from crm.records.services.deals import deal_move_stage
from crm.sales import selectors
from crm.sales.selectors import BoardFilters
from crm.web.forms.base import user_choices
from crm.web.templatetags.web import money
from crm.web.views.helpers import page_errors

CARDS_PER_PAGE = 20
FILTER_KEYS = ("pipeline", "owner", "team", "close_from", "close_to")


def _pipeline(request) -> Pipeline | None:
    pipelines = Pipeline.objects.order_by("order", "id")
    raw = request.GET.get("pipeline")
    if raw:
        found = pipelines.filter(pk=raw).first() if raw.isdigit() else None
        if found is None:
            raise Http404("No such pipeline.")
        return found
    return pipelines.order_by("-is_default", "order", "id").first()


def board_filters(request) -> BoardFilters:
    """The owner/team/close-date filters of the query string (a value that does not parse is ignored)."""
    owner, team = request.GET.get("owner", ""), request.GET.get("team", "")
    return BoardFilters(
        owner_id=int(owner) if owner.isdigit() else None,
        team_id=int(team) if team.isdigit() else None,
        close_from=_date(request.GET.get("close_from")),
        close_to=_date(request.GET.get("close_to")),
    )


def _date(raw):
    try:
        return parse_date(raw or "")
    except ValueError:  # well formed but no such day (2030-02-31)
        return None


def _filter_values(filters: BoardFilters) -> dict:
    """The filters in use, as the form's fields hold them (strings)."""
    values = {
        "owner": filters.owner_id,
        "team": filters.team_id,
        "close_from": filters.close_from and filters.close_from.isoformat(),
        "close_to": filters.close_to and filters.close_to.isoformat(),
    }
    return {k: str(v) for k, v in values.items() if v is not None}


def stats_of(column: dict) -> dict:
    """A column's numbers as the board shows them: one amount per currency, joined ("€1,000 + $2,500")."""

    def joined(key):
        if any(t[key] is None for t in column["totals"]):
            return money(None)  # hidden from the reader's role ("—"), not a total of zero
        parts = [money(t[key], t["currency"]) for t in column["totals"] if t[key]]
        return " + ".join(parts) or money(0)

    stats = {"count": column["count"], "total": joined("amount"), "weighted": joined("weighted_amount")}
    return stats | converted_stats(column)


def converted_stats(column: dict) -> dict:
    """The total in the organization's currency, shown when the column holds another currency: the
    amount, the rates it used ("EUR 1.08 on 2026-05-01") and the (currency, date) pairs lacking one."""
    conv = column["converted"]
    rates = conv["rates"]
    if all(t["currency"] == conv["currency"] for t in column["totals"]):
        return {}
    return {
        "converted": money(conv["amount"], conv["currency"]),
        "converted_currency": conv["currency"],
        "rates": "; ".join(f"{r['currency']} {r['rate'].normalize():f} on {r['rate_date']:%Y-%m-%d}" for r in rates),
        "missing_rates": ", ".join(conv["missing_rates"]),
    }


@login_required
def board(request):
    if not policy_for(request.user).allows("deal", "view"):
        raise PermissionDenied("You may not see deals.")
    pipeline = _pipeline(request)
    context = {"pipeline": pipeline, "pipelines": Pipeline.objects.order_by("order", "id")}
    if pipeline is not None:
        filters = board_filters(request)
        columns = selectors.board(request.user, pipeline, cards=CARDS_PER_PAGE, filters=filters)
        for column in columns:
            column["stats"] = stats_of(column)
        context |= {
            "columns": columns,
            "stages": [c["stage"] for c in columns],
            "filters": _filter_values(filters),
            "users": user_choices(blank="Any owner"),
            "teams": Team.objects.order_by("name"),
            "filter_query": _filter_query(request),
            "may_move": policy_for(request.user).allows("deal", "change"),
        }
    return render(request, "web/board.html", context)


def _filter_query(request) -> str:
    """The board's filters, passed on to the lazy-loaded columns."""
    return urlencode({k: v for k, v in request.GET.items() if k in FILTER_KEYS and v})


@login_required
@page_errors
def board_column(request, stage_id: int):
    """The next cards of one column (the sentinel at the end of a column asks for them when it scrolls into view)."""
    stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
    if stage is None:
        raise Http404("No such stage.")
    cards, nxt = selectors.column_cards(
        request.user,
        stage,
        limit=CARDS_PER_PAGE,
        cursor=request.GET.get("cursor") or None,
        filters=board_filters(request),
    )
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
    columns = selectors.board(request.user, deal.pipeline, cards=0, filters=board_filters(request))
    stats = {c["stage"].pk: stats_of(c) for c in columns}
    stages = [c["stage"] for c in columns]
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
