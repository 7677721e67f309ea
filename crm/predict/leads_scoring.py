"""Scores of every open lead: the model's conversion probability and reasons when a lead model is in
use, else the conversion rate of the lead's source; and the lead score's predicted part (``points``:
the probability × ``PREDICT_LEAD_SCORE_WEIGHT``, 100 by default). Written in bulk by the worker after
training and nightly; read per lead through ``Lead.objects.restrict`` (404 for a lead one may not see,
403 when one's role hides the lead score)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.core import rawinsert
from crm.core.errors import NotFound, PermissionDenied
from crm.predict import explain, leads_features, leads_training, shapes, training
from crm.predict.models import LeadScore
from crm.records.models import Lead, LeadStatus

log = logging.getLogger("crm.predict")
CHUNK = 20_000  # leads per feature read: bounds the memory of a scoring run


def weight() -> int:
    return int(getattr(settings, "PREDICT_LEAD_SCORE_WEIGHT", 100))


def open_leads():
    """Leads not decided yet: not converted, not qualified or disqualified (leads_features.closes)."""
    decided = (LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED)
    return Lead.objects.filter(converted_at__isnull=True).exclude(status__in=decided)


def score_open_leads(*, now: dt.datetime | None = None) -> int:
    """Replace every lead score with one per open lead, as of ``now``."""
    now = now or timezone.now()
    latest = training.latest(leads_training.KIND)
    record = latest if latest is not None and latest.in_use else None
    pipe = training.load(record) if record else None
    if record and pipe is None:
        log.error("predict: lead model v%s cannot be loaded; scoring with the source's rate", record.version)
        record = None
    rates = (latest.evaluation or {}).get("rates") if latest else None
    leads = list(open_leads().order_by("id").values_list("id", "source"))
    rows = []
    if pipe is not None:
        closed = leads_features.closes()
        for start in range(0, len(leads), CHUNK):
            chunk = leads[start : start + CHUNK]
            facts = leads_features.extract({pk: now for pk, _ in chunk}, closed)
            ids = [pk for pk, _ in chunk if pk in facts]
            vectors = [leads_features.vector(facts[pk]) for pk in ids]
            probs, why = explain.explain_all(pipe, ids, facts, vectors, leads_features.phrase)
            rows += [(pk, p, record.pk, r) for pk, p, r in zip(ids, probs, why, strict=True)]
    elif rates:
        rows = [(pk, leads_training.rate_of(rates, source), None, []) for pk, source in leads]
    w = weight()
    with transaction.atomic():
        LeadScore.objects.all().delete()
        rawinsert.insert(
            LeadScore,
            ("lead_id", "probability", "points", "model_id", "reasons", "scored_at"),
            [(pk, p, round(p * w), model, why, now) for pk, p, model, why in rows],
        )
    return len(rows)


def score_of(user, lead_id: int) -> dict:
    lead = Lead.objects.restrict(user).filter(pk=lead_id).select_related("conversion_score__model").first()
    if lead is None:
        raise NotFound("No such lead.")
    return as_dict(user, lead)


def as_dict(user, lead) -> dict:
    """A lead's conversion probability and its part of the lead score; probability None when there is
    none (never scored, converted or disqualified, or nothing to learn from yet)."""
    from crm.access.policy import policy_for

    if "score" in policy_for(user).hidden_fields("lead"):
        raise PermissionDenied("Your role may not see lead scores.")
    score = getattr(lead, "conversion_score", None)
    entered = lead.score
    if score is None:
        return {
            "lead_id": lead.pk,
            **shapes.unscored(None, "none"),
            "score_points": 0,
            "entered_score": entered,
            "lead_score": entered,
        }
    return {
        "lead_id": lead.pk,
        **shapes.score_fields(score),
        "score_points": score.points,
        "entered_score": entered,
        "lead_score": (entered or 0) + score.points,
    }
