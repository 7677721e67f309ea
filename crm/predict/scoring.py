"""Scores of every open deal: the model's probability and reasons when a model is in use, else the
deal's stage probability. Written in bulk by the worker after training and nightly; read per deal
through ``Deal.objects.restrict`` (a rep sees the scores of the deals they may see, no others)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from crm.core import rawinsert
from crm.core.errors import NotFound, PermissionDenied
from crm.predict import explain, features, shapes, training, vectors
from crm.predict.models import DealScore
from crm.records.models import Deal, DealStatus

log = logging.getLogger("crm.predict")
CHUNK = 20_000  # deals per feature read: bounds the memory of a scoring run


def score_open_deals(*, now: dt.datetime | None = None) -> int:
    """Replace every score with one per open deal, as of ``now``."""
    record = training.in_use()
    pipe = training.load(record) if record else None
    if record and pipe is None:
        log.error("predict: model v%s cannot be loaded; scoring with the stage probability", record.version)
        record = None
    return write_scores(pipe, record, now=now or timezone.now())


def write_scores(pipe, record, *, now: dt.datetime) -> int:
    """Score every open deal with ``pipe`` (None: the stage probability) and replace the stored scores."""
    open_deals = list(Deal.objects.filter(status=DealStatus.OPEN).order_by("id").values_list("id", "probability"))
    version = record.pk if record else None
    rows = []
    # Every closed deal's owner and close, read once: per chunk it was a third of a scoring run at 1m.
    owners = features.OwnerRecord() if pipe is not None else None
    for start in range(0, len(open_deals), CHUNK):
        chunk = open_deals[start : start + CHUNK]
        if pipe is None:
            rows += [(pk, p / 100, None, [], now) for pk, p in chunk]
            continue
        facts = features.extract({pk: now for pk, _ in chunk}, owners)
        ids = [pk for pk, _ in chunk if pk in facts]
        x = vectors.matrix(pipe.named_steps["vec"].vocabulary_, [facts[pk] for pk in ids])
        probs, why = explain.explain_all(pipe, ids, facts, x)
        rows += [(pk, p, version, r, now) for pk, p, r in zip(ids, probs, why, strict=True)]
    with transaction.atomic():
        DealScore.objects.all().delete()
        # One executemany (COPY on PostgreSQL): bulk_create spent most of a run preparing each field.
        rawinsert.insert(DealScore, ("deal_id", "probability", "model_id", "reasons", "scored_at"), rows)
    return len(rows)


def score_of(user, deal_id: int) -> dict:
    """One deal's score as ``user`` may see it: 404 for a deal they may not see, 403 when their role
    hides deal probabilities. A deal not scored yet (or closed) answers its stage probability."""
    deal = Deal.objects.restrict(user).filter(pk=deal_id).select_related("win_score__model").first()
    if deal is None:
        raise NotFound("No such deal.")
    return as_dict(user, deal)


def as_dict(user, deal) -> dict:
    from crm.access.policy import policy_for

    if "probability" in policy_for(user).hidden_fields("deal"):
        raise PermissionDenied("Your role may not see deal probabilities.")
    score = getattr(deal, "win_score", None)
    if score is None or deal.status != DealStatus.OPEN:
        return {"deal_id": deal.pk, **shapes.unscored(deal.probability / 100, "stage")}
    return {"deal_id": deal.pk, **shapes.score_fields(score)}


def probabilities(deals) -> dict[int, float]:
    """The model's probability of each open deal among ``deals`` (a queryset) that a model scored."""
    rows = DealScore.objects.filter(deal__in=deals.filter(status=DealStatus.OPEN).values("pk"), model__isnull=False)
    return dict(rows.values_list("deal_id", "probability"))
