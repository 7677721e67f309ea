"""Generated closed and open deals with their activities and stage history, with or without a planted
signal: with it, a deal's engagement decides both how many activities it gets (spread over its life)
and its chance to be won; without it, activities and outcomes are drawn independently (pure noise)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from crm.forecast import stays
from crm.records.models import Activity, ActivityLink, Deal, DealStatus, StageChange
from tests.factories import PipelineFactory

START = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)


def generate(n: int, *, signal: bool, seed: int = 15, open_share: float = 0.15, owners=(None,)) -> list[Deal]:
    rng = random.Random(seed)
    pipeline = PipelineFactory()
    qualify, proposal, won_stage, lost_stage = pipeline.stages.order_by("order")
    plans = []
    for i in range(n):
        created = START + dt.timedelta(hours=12 * i)
        life = dt.timedelta(days=rng.randint(20, 80))
        engagement = rng.random()
        if signal:
            won = (engagement > 0.5) != (rng.random() < 0.1)  # engaged deals win, but 1 in 10 goes the other way
            acts = int(engagement * 24)
        else:
            won, acts = rng.random() < 0.5, rng.randint(0, 24)
        is_open = i >= n * (1 - open_share)
        moved = created + life * rng.uniform(0.1, 0.9)
        plans.append((created, life, won, acts, is_open, moved))
    deals = Deal.objects.bulk_create(
        Deal(
            name=f"Generated {i}",
            amount=Decimal(rng.choice([1000, 5000, 20000])),
            currency="USD",
            pipeline=pipeline,
            stage=proposal if is_open else (won_stage if won else lost_stage),
            status=DealStatus.OPEN if is_open else (DealStatus.WON if won else DealStatus.LOST),
            probability=proposal.probability if is_open else (100 if won else 0),
            owner=owners[i % len(owners)],
            created_at=created,
            closed_at=None if is_open else created + life,
            stage_changed_at=moved if is_open else created + life,
        )
        for i, (created, life, won, acts, is_open, moved) in enumerate(plans)
    )
    moves, activities = [], []
    for deal, (created, life, _won, acts, is_open, moved) in zip(deals, plans, strict=True):
        moves.append(StageChange(deal=deal, to_stage=qualify, changed_at=created))
        moves.append(StageChange(deal=deal, from_stage=qualify, to_stage=proposal, changed_at=moved))
        if not is_open:
            moves.append(StageChange(deal=deal, from_stage=proposal, to_stage=deal.stage, changed_at=created + life))
        for k in range(acts):
            at = created + life * ((k + 0.5) / max(acts, 1))
            activities.append(
                (deal, Activity(kind=rng.choice(["call", "email", "meeting"]), occurred_at=at, created_at=at))
            )
    StageChange.objects.bulk_create(moves)
    stays.rebuild()  # the forecast's paired stays: moves written in bulk send no signal
    made = Activity.objects.bulk_create([a for _, a in activities])
    ActivityLink.objects.bulk_create(
        ActivityLink(activity=a, record_type="deal", record_id=d.pk, occurred_at=a.occurred_at)
        for (d, _), a in zip(activities, made, strict=True)
    )
    return deals
