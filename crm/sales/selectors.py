"""Reads across many deals: the pipeline board, the forecast and the funnel.

Every read starts from ``Deal.objects.restrict(user)``, so a rep's board, forecast and funnel
only count the deals that rep may see. Aggregates run in the database; Python only arranges
the (few) grouped rows. Amounts are totalled per currency, and beside those in the organization's
currency (``converted``, crm.money.totals): each (currency, date) group converted at the rate of its
date (an open deal's expected close date, a closed deal's close date, today for an open deal without
one), with the rates used and the ones missing. Rows are grouped by date in SQL, so only the distinct
(currency, date) groups are converted, never each deal.

Field-level security: when a deal's amount is hidden from the reader's role, no amount is shown:
card amounts and every total are None (not computed from values the reader may not see); a hidden
probability nulls the weighted amounts. A hidden expected close date withholds the converted totals
(their rate dates would tell it). A card's other hidden fields are blanked too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate

from crm.access import fieldrules
from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.filters import refuse_hidden
from crm.core.paging import Sort, page
from crm.money import totals as money_totals
from crm.records.models import Deal, DealStatus, Pipeline, Stage, StageChange

CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "currency",
    "owner_id",
    "company_id",
    "expected_close_date",
    "probability",
    "stage_changed_at",
)
# What a card shows besides: the web board's card names the company and the owner and carries the
# version (sent back on a move). Loading only these keeps wide columns (custom fields) off the board.
CARD_EXTRA = ("version", "stage_id", "company__name", "owner__username", "owner__first_name", "owner__last_name")

# The board's cards, newest arrival in the stage first. The deals list API sorts by the same key
# (``sort=-stage_changed_at``), so a column's ``next`` cursor continues there.
CARD_ORDER = Sort("stage_changed_at", descending=True)


@dataclass(frozen=True)
class BoardFilters:
    """What the board can be narrowed to: one owner, a team (its members and its manager), close dates."""

    owner_id: int | None = None
    team_id: int | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None

    def q(self) -> Q:
        q = Q()
        if self.owner_id is not None:
            q &= Q(owner_id=self.owner_id)
        if self.team_id is not None:
            members = Profile.objects.filter(team_id=self.team_id).values_list("user_id", flat=True)
            manager = Team.objects.filter(pk=self.team_id).values_list("manager_id", flat=True).first()
            q &= Q(owner_id__in=[m for m in [*members, manager] if m])
        if self.close_from is not None:
            q &= Q(expected_close_date__gte=self.close_from)
        if self.close_to is not None:
            q &= Q(expected_close_date__lte=self.close_to)
        return q


NO_FILTERS = BoardFilters()


def _weighted():
    """amount × probability, a fresh expression per query (Django resolves expressions in place)."""
    return ExpressionWrapper(F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2))


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def board_deals(user, pipeline: Pipeline, filters: BoardFilters = NO_FILTERS):
    """The deals a board counts: the user's visible deals of the pipeline, narrowed by the filters
    (a 400 for a filter on a field hidden from the user: which deals match would tell its values)."""
    used = {"owner": filters.owner_id, "team": filters.team_id, "close_from": filters.close_from}
    used["close_to"] = filters.close_to
    on = {"owner": "owner", "team": "owner", "close_from": "expected_close_date", "close_to": "expected_close_date"}
    refuse_hidden({p: on[p] for p, v in used.items() if v is not None}, _hidden(user))
    return Deal.objects.restrict(user).filter(pipeline=pipeline).filter(filters.q())


def board(user, pipeline: Pipeline, *, cards: int = 20, filters: BoardFilters = NO_FILTERS) -> list[dict]:
    """One column per stage (the ``Stage``): count and amounts (per currency) of its deals, its first ``cards`` deals
    and the cursor of the next ones (``column_cards``). The web board and the API board both read this."""
    deals = board_deals(user, pipeline, filters)
    hidden = _hidden(user)
    totals = _column_totals(deals)
    empty = totals.pop(None)
    columns = []
    for stage in pipeline.stages.order_by("order", "id"):
        first, nxt = _cards(deals, stage, limit=cards) if cards > 0 else ([], None)
        column = _masked(totals.get(stage.pk) or empty, hidden)
        columns.append({"stage": stage, **column, "cards": _blanked(first, hidden), "next": nxt})
    return columns


def column_cards(user, stage: Stage, *, limit: int, cursor: str | None = None, filters: BoardFilters = NO_FILTERS):
    """The next page of one column: (deals, cursor of the page after, or None)."""
    cards, nxt = _cards(board_deals(user, stage.pipeline, filters), stage, limit=limit, cursor=cursor)
    return _blanked(cards, _hidden(user)), nxt


def _hidden(user) -> frozenset[str]:
    return policy_for(user).hidden_fields("deal")


def _money_keys(hidden: frozenset[str]) -> tuple[str, ...]:
    """The totals a reader may not see: all of them without the amount, the weighted ones without
    the probability."""
    if "amount" in hidden:
        return ("amount", "weighted_amount")
    return ("weighted_amount",) if "probability" in hidden else ()


def _masked(row: dict, hidden: frozenset[str]) -> dict:
    """A column's or a forecast month's numbers with the hidden ones None (its per-currency ``totals``
    and its ``converted`` total too; all of ``converted`` when the close date is hidden)."""
    keys = _money_keys(hidden)
    if "converted" in row and ("expected_close_date" in hidden or "amount" in hidden):
        row = {**row, "converted": money_totals.withheld()}
    if not keys:
        return row
    row = {**row, **dict.fromkeys(keys)}
    if "totals" in row:
        row["totals"] = [{**t, **dict.fromkeys(keys)} for t in row["totals"]]
    if "converted" in row:
        row["converted"] = {**row["converted"], **dict.fromkeys(keys)}
    return row


def _blanked(cards, hidden: frozenset[str]):
    """The cards (display copies) with the hidden fields' values blanked."""
    if hidden:
        rt = recordtypes.by_type("deal")
        for deal in cards:
            fieldrules.blank(rt, deal, hidden)
    return cards


def _cards(deals, stage: Stage, *, limit: int, cursor: str | None = None):
    qs = deals.filter(stage=stage).select_related("company", "owner").only(*CARD_FIELDS, *CARD_EXTRA)
    return page(qs, CARD_ORDER, limit=limit, cursor=cursor)


def _grouped(deals):
    """Count and sums per (stage, currency, conversion date), in two grouped queries: open deals by
    expected close date (plain columns: the forecast index), closed ones by the day they closed."""
    sums = {"count": Count("id"), "total": Sum("amount"), "weighted": Sum(_weighted())}
    open_rows = (
        deals.filter(status=DealStatus.OPEN)
        .values("stage_id", "currency", on=F("expected_close_date"))
        .annotate(**sums)
        .order_by()
    )
    closed_rows = (
        deals.exclude(status=DealStatus.OPEN)
        .values("stage_id", "currency", on=TruncDate("closed_at"))
        .annotate(**sums)
        .order_by()
    )
    return [*open_rows, *closed_rows]


def _column_totals(deals) -> dict[int | None, dict]:
    """Per stage: count and amounts per currency (amounts in different currencies are never added
    together), and the total converted to the organization's currency."""
    rows = _grouped(deals)
    per_stage: dict[int, dict[str, dict]] = {}
    groups: dict[int, list] = {}
    for row in rows:
        weighted = Decimal(row["weighted"] or 0) / 100
        empty = {"currency": row["currency"], "count": 0, "amount": Decimal(0), "weighted_amount": Decimal(0)}
        bucket = per_stage.setdefault(row["stage_id"], {}).setdefault(row["currency"], empty)
        bucket["count"] += row["count"]
        bucket["amount"] += Decimal(row["total"] or 0)
        bucket["weighted_amount"] += weighted
        group = money_totals.Group(row["currency"], row["on"], Decimal(row["total"] or 0), weighted)
        groups.setdefault(row["stage_id"], []).append(group)
    table = money_totals.table_for(g for gs in groups.values() for g in gs)
    out: dict[int | None, dict] = {None: _totals_of([], money_totals.converted([], table))}  # an empty column's
    for stage_id, currencies in per_stage.items():
        for t in currencies.values():
            t["amount"], t["weighted_amount"] = _money(t["amount"]), _money(t["weighted_amount"])
        out[stage_id] = _totals_of(list(currencies.values()), money_totals.converted(groups[stage_id], table))
    return out


def _totals_of(totals: list[dict], converted: dict) -> dict:
    """A column's count, its ``totals`` per currency, and one ``amount`` only where it means something:
    all its deals in one ``currency``, or none (0); ``amount`` and ``weighted_amount`` are None for
    deals in several currencies: ``converted`` is their total in the organization's currency."""
    totals = sorted(totals, key=lambda t: t["currency"])
    one = totals[0] if len(totals) == 1 else None
    empty = _money(0) if not totals else None
    return {
        "count": sum(t["count"] for t in totals),
        "currency": one["currency"] if one else None,
        "amount": one["amount"] if one else empty,
        "weighted_amount": one["weighted_amount"] if one else empty,
        "totals": totals,
        "converted": converted,
    }


def forecast(user) -> list[dict]:
    """Open deals by expected close month and currency (a month with two currencies is two rows):
    count, amount, and amount weighted by probability, and those in the organization's currency
    (``converted``: each close date's sums at that date's rate).

    Grouped by date in SQL and folded into months here: a month function would run per row
    (a Python function on SQLite), while the distinct close dates are only a few hundred rows."""
    rows = (
        Deal.objects.restrict(user)
        .filter(status=DealStatus.OPEN)
        .values("expected_close_date", "currency")
        .annotate(count=Count("id"), total=Sum("amount"), weighted=Sum(_weighted()))
        .order_by()
    )
    months: dict[tuple[str | None, str], dict] = {}
    groups: dict[tuple[str | None, str], list] = {}
    hidden = _hidden(user)
    for row in rows:
        day = None if "expected_close_date" in hidden else row["expected_close_date"]  # one row per currency
        month = day.strftime("%Y-%m") if isinstance(day, dt.date) else None
        bucket = months.setdefault(
            (month, row["currency"]),
            {
                "month": month,
                "currency": row["currency"],
                "count": 0,
                "amount": Decimal(0),
                "weighted_amount": Decimal(0),
            },
        )
        bucket["count"] += row["count"]
        bucket["amount"] += Decimal(row["total"] or 0)
        bucket["weighted_amount"] += Decimal(row["weighted"] or 0) / 100
        group = money_totals.Group(
            row["currency"], row["expected_close_date"], Decimal(row["total"] or 0), Decimal(row["weighted"] or 0) / 100
        )
        groups.setdefault((month, row["currency"]), []).append(group)
    table = money_totals.table_for(g for gs in groups.values() for g in gs)
    ordered = sorted(months.values(), key=lambda b: (b["month"] is None, b["month"] or "", b["currency"]))
    for bucket in ordered:
        bucket["converted"] = money_totals.converted(groups[(bucket["month"], bucket["currency"])], table)
        bucket["amount"] = _money(bucket["amount"])
        bucket["weighted_amount"] = _money(bucket["weighted_amount"])
    return [_masked(bucket, hidden) for bucket in ordered]


def funnel(user) -> list[dict]:
    """Per pipeline, per stage in order: how many deals ever reached it (from the stage history),
    and the share of those that reached the next open stage, and won."""
    changes = StageChange.objects.all()
    visible = Deal.objects.restrict(user)
    if visible.query.is_empty():
        changes = changes.none()
    elif visible.query.where:  # only join when the user's scope actually limits the deals
        changes = changes.filter(deal_id__in=visible.values("pk"))
    reached = {
        row["to_stage_id"]: row["deals"]
        for row in changes.values("to_stage_id").annotate(deals=Count("deal_id", distinct=True)).order_by()
    }
    out = []
    for pipeline in Pipeline.objects.prefetch_related("stages"):
        stages = sorted(pipeline.stages.all(), key=lambda s: (s.order, s.pk))
        open_stages = [s for s in stages if not s.is_won and not s.is_lost]
        entered = reached.get(open_stages[0].pk, 0) if open_stages else 0
        rows = []
        for stage in stages:
            count = reached.get(stage.pk, 0)
            nxt = open_stages[open_stages.index(stage) + 1] if stage in open_stages[:-1] else None
            rows.append(
                {
                    "stage": {"id": stage.pk, "name": stage.name, "status": stage.status},
                    "reached": count,
                    "share_of_entered": round(count / entered, 4) if entered else None,
                    "to_next": round(reached.get(nxt.pk, 0) / count, 4) if nxt is not None and count else None,
                }
            )
        out.append({"pipeline": {"id": pipeline.pk, "name": pipeline.name}, "entered": entered, "stages": rows})
    return out
