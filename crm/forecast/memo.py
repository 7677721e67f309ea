"""What the forecast learns from the whole history, kept in the cache until that history changes.

The history methods' conversion rates and usual stays (crm/forecast/history.py), a period's summed
groups (crm/forecast/sums.py) and the backtest read every stage move and deal the viewer may see: the
costly part of a forecast, and the same answer until a deal, a stage move, a category or a rate is
written. So the answer is cached under a key made of the question
(the visible deals' SQL and parameters, which name the owners a role sees; the as-of instants; the time
zone the days are counted in; the day) and a **fingerprint** of what it is computed from, read in a
few milliseconds by the database:

- deals: count, highest id, sum of versions, latest update — every service write bumps a deal's
  version (bulk moves included: crm/records/services/moves.py), a creation raises the highest id, a
  deletion lowers the count;
- stage moves: count, highest id, latest time (rows are only ever added, or removed with their deal);
- the category tables and exchange rates (count, highest id) and the change-log rows of categories,
  rates and stages (highest id): the backtest rolls categories back and converts at dated rates.

A write that changes none of those cannot change the answer; any write to a deal or a move makes the
next read compute afresh. Nothing is trusted beyond ``SECONDS`` either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.forecast.models import DealCategory, StageCategory
from crm.money.models import ExchangeRate
from crm.records.models import Deal, StageChange

SECONDS = 3600
CONFIG_TYPES = ("forecast_deal_category", "forecast_stage_category", "exchange_rate", "stage")


def fingerprint() -> str:
    """A few aggregates that change whenever a deal, a stage move, a category, a rate or a predicted win
    probability (crm/predict, the ``predicted`` figure) is written."""
    scores = apps.get_model("predict", "DealScore")
    parts = [
        Deal.objects.aggregate(Count("id"), Max("id"), Sum("version"), Max("updated_at")),
        StageChange.objects.aggregate(Count("id"), Max("id"), Max("changed_at")),
        ObjectChange.objects.filter(object_type__in=CONFIG_TYPES).aggregate(Max("id")),
        DealCategory.objects.aggregate(Count("id"), Max("id")),
        StageCategory.objects.aggregate(Count("id"), Max("id")),
        ExchangeRate.objects.aggregate(Count("id"), Max("id")),
        scores.objects.aggregate(Count("deal"), Count("model"), Max("scored_at")),
    ]
    return hashlib.sha256(repr([sorted(p.items()) for p in parts]).encode()).hexdigest()[:32]


def _question(visible, parts) -> str:
    sql, params = visible.order_by().values("pk").query.sql_with_params()
    text = repr((sql, params, timezone.get_current_timezone_name(), timezone.localdate(), parts))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def remembered(name: str, visible, parts, compute: Callable[[], object]):
    """``compute()``, or its result for the same question over the same data."""
    key = f"forecast-memo:{name}:{_question(visible, parts)}:{fingerprint()}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, SECONDS)
    return found
