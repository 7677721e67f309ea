"""Training of the lead-conversion model: "this closed lead was converted", judged against the
conversion rate of its source. The deal model's pipeline (crm/predict/training.py) on a lead's facts
(crm/predict/leads_features.py): rows are closed leads (converted or disqualified) seen partway through
their life, the oldest 75 % of closes train and the newest 25 % test, and the model is used only when
it ranks better than chance by itself and beats the baseline there on AUC (by more than chance) and
Brier score; otherwise the record says why.

The baseline is each source's conversion rate among the *training* closes (smoothed towards the
overall rate, so a source seen twice is not 0 % or 100 %); a source never seen gets the overall rate.
The rates of all closes are kept in the record (``evaluation["rates"]``): open leads are scored with
them when no model is in use.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Max
from django.utils import timezone

from crm.predict import leads_features, training
from crm.predict.models import TrainedModel
from crm.records.models import Lead

log = logging.getLogger("crm.predict")
KIND = "lead"
BASELINE = "the source's conversion rate"
PRIOR = 5  # closes' weight of the overall rate in a source's smoothed rate


def source_rates(rows: list[tuple[str, int]]) -> dict:
    """{"overall": rate, "sources": {source: rate}} from (source, converted) rows; {} without rows."""
    total = len(rows)
    if not total:
        return {}
    overall = (sum(y for _s, y in rows) + 1) / (total + 2)
    counts: dict[str, list[int]] = {}
    for source, y in rows:
        c = counts.setdefault(source, [0, 0])
        c[0] += y
        c[1] += 1
    return {
        "overall": overall,
        "sources": {s: (won + PRIOR * overall) / (n + PRIOR) for s, (won, n) in counts.items()},
    }


def rate_of(rates: dict, source: str) -> float:
    return rates.get("sources", {}).get(source or "", rates.get("overall", 0.0))


def _refusal(ys: list[int], cut: int) -> str:
    if len(ys) < training.MIN_CLOSED:
        return f"Too few closed leads to learn from: {len(ys)} (at least {training.MIN_CLOSED} needed)."
    for name, part in (("older", ys[:cut]), ("newer", ys[cut:])):
        won = sum(part)
        if min(won, len(part) - won) < training.MIN_PER_CLASS:
            return (
                f"Too few converted or disqualified leads among the {name} closed leads ({won} converted, "
                f"{len(part) - won} not; at least {training.MIN_PER_CLASS} of each needed)."
            )
    return ""


def train(*, now: dt.datetime | None = None) -> TrainedModel:
    """Train, evaluate against the source's conversion rate and record the result (a new version every run)."""
    now = now or timezone.now()
    rows = [r for r in leads_features.closes() if r[3] <= now]
    version = (TrainedModel.objects.filter(kind=KIND).aggregate(v=Max("version"))["v"] or 0) + 1
    record = TrainedModel(kind=KIND, version=version, trained_at=now)
    ys = [r[4] for r in rows]
    cut = len(rows) - int(len(rows) * training.TEST_SHARE)
    refusal = _refusal(ys, cut)
    if refusal:
        record.reason = f"{refusal} The source's conversion rate is used."
        sources = dict(Lead.objects.filter(pk__in=[r[0] for r in rows]).values_list("id", "source"))
        record.evaluation = {"rates": source_rates([(sources.get(r[0], ""), r[4]) for r in rows])}
        record.save()
        return record
    facts = leads_features.extract(
        {pk: training.instant(pk, created, closed) for pk, _o, created, closed, _y in rows}, rows
    )
    rows = [r for r in rows if r[0] in facts]
    cut = len(rows) - int(len(rows) * training.TEST_SHARE)
    x = [leads_features.vector(facts[r[0]]) for r in rows]
    y = [r[4] for r in rows]
    older = source_rates([(facts[r[0]]["source"], r[4]) for r in rows[:cut]])
    baseline = [rate_of(older, facts[r[0]]["source"]) for r in rows[cut:]]
    record.rows_train, record.rows_test = cut, len(rows) - cut
    model_eval, base_eval, record.in_use, record.reason = training.assess(
        x, y, baseline, cut, name=BASELINE, rows="leads"
    )
    record.evaluation = {
        "model": model_eval,
        "baseline": base_eval,
        "rates": source_rates([(facts[r[0]]["source"], r[4]) for r in rows]),
    }
    if record.in_use:
        record.file_name, record.sha256 = training.write(training.make_pipeline().fit(x, y), version, KIND)
    record.save()
    log.info("predict: lead model v%s trained on %s rows: %s", version, len(rows), record.reason)
    return record
