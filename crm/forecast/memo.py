"""What the forecast learns from the whole history, kept in the cache until that history changes.

The history methods' conversion rates and usual stays (crm/forecast/history.py), a period's summed
groups (crm/forecast/sums.py) and the backtest read every stage move and deal the viewer may see: the
costly part of a forecast, and the same answer until a deal, a stage move, a category or a rate is
written. So the answer is cached under a key made of the question
(the visible deals' SQL and parameters, which name the owners a role sees; the as-of instants; the time
zone the days are counted in; the day) and a **fingerprint** of what it is computed from, read in a
millisecond or two whatever the size of the data:

- the write counters (crm/forecast/generation.py): database triggers on deals, stage moves, stages,
  the category tables, exchange rates and predicted scores raise them with every insert, update or
  delete, whatever wrote it (services, bulk moves, imports, merges, erasure, bulk loads, raw SQL);
- the change-log rows of categories, rates and stages (highest id): the backtest rolls categories
  back from the log.

A write that changes none of those cannot change the answer; any write to a deal or a move makes the
next read compute afresh (tests/forecast/test_memo_writes.py, per kind of write path). Nothing is
trusted beyond ``SECONDS`` either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.forecast import generation

SECONDS = 3600
CONFIG_TYPES = ("forecast_deal_category", "forecast_stage_category", "exchange_rate", "stage")


def fingerprint() -> str:
    """Changes whenever a deal, a stage move, a stage, a category, a rate or a predicted win probability
    (crm/predict, the ``predicted`` figure) is written, by any path (the triggers' counters), or a
    category, rate or stage change is logged (the backtest rolls them back from the log)."""
    parts = [
        generation.current(),
        ObjectChange.objects.filter(object_type__in=CONFIG_TYPES).aggregate(Max("id")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


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
