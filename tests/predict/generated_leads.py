"""Generated closed and open leads with their activities, with or without a planted signal: with it, a
lead's engagement decides how many activities it gets (spread over its life) and its chance to convert,
and the "Referral" source converts more often; without it, activities, sources and outcomes are drawn
independently (pure noise). Disqualified leads close at their last update (no change-log row)."""

from __future__ import annotations

import datetime as dt
import random

from crm.records.models import Activity, ActivityLink, Lead, LeadStatus

START = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
SOURCES = ("Referral", "Website", "Trade show")


def generate(n: int, *, signal: bool, seed: int = 15, open_share: float = 0.15, owners=(None,)) -> list[Lead]:
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        created = START + dt.timedelta(hours=12 * i)
        life = dt.timedelta(days=rng.randint(10, 60))
        engagement, source = rng.random(), rng.choice(SOURCES)
        if signal:
            lean = 0.15 if source == "Referral" else 0.0
            won = (engagement + lean > 0.55) != (rng.random() < 0.1)  # 1 in 10 goes the other way
            acts = int(engagement * 16)
        else:
            won, acts = rng.random() < 0.4, rng.randint(0, 16)
        plans.append((created, life, won, acts, i >= n * (1 - open_share), source))
    leads = Lead.objects.bulk_create(
        Lead(
            last_name=f"Generated {i}",
            name=f"Generated {i}",
            source=source,
            owner=owners[i % len(owners)],
            status=LeadStatus.WORKING if is_open else (LeadStatus.QUALIFIED if won else LeadStatus.DISQUALIFIED),
            disqualified_reason="" if is_open or won else "no budget",
            converted_at=created + life if won and not is_open else None,
            created_at=created,
            updated_at=created if is_open else created + life,
        )
        for i, (created, life, won, _acts, is_open, source) in enumerate(plans)
    )
    activities = []
    for lead, (created, life, _won, acts, is_open, _source) in zip(leads, plans, strict=True):
        span = dt.timedelta(days=5) if is_open else life
        for k in range(acts):
            at = created + span * ((k + 0.5) / max(acts, 1))
            activities.append(
                (lead, Activity(kind=rng.choice(["call", "email", "meeting"]), occurred_at=at, created_at=at))
            )
    made = Activity.objects.bulk_create([a for _, a in activities])
    ActivityLink.objects.bulk_create(
        ActivityLink(activity=a, record_type="lead", record_id=lead.pk, occurred_at=a.occurred_at)
        for (lead, _), a in zip(activities, made, strict=True)
    )
    return leads
