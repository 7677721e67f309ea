"""Demo deals spread over both pipelines, each with a stage history that ends in its current stage.

A deal enters its pipeline's first stage, then only moves forward (won deals may skip a stage,
lost ones drop out from the stage they had reached), all at past times; its status, probability,
closed_at and lost reason follow the last stage, as ``deal_move_stage`` would have left them.
Won deals moved faster (closed within two to thirteen weeks) than lost ones (one to eight months),
and activities favour won deals (activities.py): structure for the win-probability model to learn,
whose evaluation is computed, never assumed (docs/predict.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from crm.demo.catalog import CHURN_REASONS, LOST_REASONS, PRODUCTS
from crm.demo.companies import SIZE_PULL, Companies
from crm.demo.contacts import People
from crm.demo.setup import PipelinePlan
from crm.demo.world import World
from crm.records.models import Deal, DealContact, DealStatus, LifecycleStage, Stage, StageChange

ROLES = [r for r, _ in DealContact.ROLES]
# Deal value in thousands by company size bucket (1 = smallest).
AMOUNTS = {1: (2, 10), 2: (5, 25), 3: (10, 60), 4: (25, 120), 5: (40, 200), 6: (80, 400), 7: (150, 900)}
TRADED_CURRENCIES = {"EUR", "GBP"}  # other countries buy in the default currency


@dataclass
class Sales:
    records: list[Deal] = field(default_factory=list)
    stage_changes: list[StageChange] = field(default_factory=list)
    deal_contacts: list[DealContact] = field(default_factory=list)
    tag_links: list = field(default_factory=list)
    by_company: dict[int, list[Deal]] = field(default_factory=dict)  # company index -> its deals
    contacts_of: dict[int, list] = field(default_factory=dict)  # id(deal) -> its contacts


def build(world: World, count: int, companies: Companies, people: People) -> Sales:
    out = Sales()
    plans = list(world.pipelines.values())
    renewals = world.pipelines.get("Renewals")
    main = world.pipelines.get("Sales") or plans[0]
    for _ in range(count):
        plan = renewals if renewals and world.chance(0.2) else main
        index = companies.pick_index(world) if companies.records else None
        deal = _deal(world, plan, companies, index, out)
        out.records.append(deal)
        if index is not None:
            out.by_company.setdefault(index, []).append(deal)
            _contacts(world, deal, people.by_company.get(index, []), out)
        if world.chance(0.12):
            out.tag_links.append(Deal.tags.through(deal=deal, tag=world.tags[world.pick(("Upsell", "VIP"))]))
    return out


def _path(world: World, plan: PipelinePlan) -> list[Stage]:
    """The stages a deal went through, first to current."""
    stages = plan.open
    roll = world.rng.random()
    if plan.won and roll < 0.24:
        return [stages[0], *(s for s in stages[1:] if world.chance(0.85)), plan.won]
    if plan.lost and roll < 0.42:
        return [*stages[: world.rng.randrange(len(stages)) + 1], plan.lost]
    # Open deals: earlier stages hold more of them, as in any real funnel.
    reached = world.rng.choices(range(len(stages)), [len(stages) - i + 1 for i in range(len(stages))])[0]
    return stages[: reached + 1]


def _deal(world: World, plan: PipelinePlan, companies: Companies, index: int | None, out: Sales) -> Deal:
    company = companies.records[index] if index is not None else None
    country = companies.countries[index] if index is not None else world.country()
    path = _path(world, plan)
    started = world.days_ago(5, 365)
    moves = [started, *sorted(world.between(started, _end(world, started, path[-1])) for _ in path[1:])]
    stage, last_move = path[-1], moves[-1]
    owner = company.owner if company and world.chance(0.8) else world.seller()
    closed = stage.status != DealStatus.OPEN
    close_date = last_move.date() if closed else (world.now + dt.timedelta(days=world.rng.randint(-20, 120))).date()
    low, high = AMOUNTS[SIZE_PULL[company.size] if company else 2]
    renewal = plan.pipeline.name == "Renewals"
    deal = Deal(
        name=_name(world, company, renewal, close_date),
        amount=Decimal(world.rng.randint(low * 10, high * 10) * 100),
        currency=country.currency if country.currency in TRADED_CURRENCIES else settings.DEFAULT_CURRENCY,
        company=company,
        pipeline=plan.pipeline,
        stage=stage,
        status=stage.status,
        expected_close_date=close_date,
        probability=100 if stage.is_won else 0 if stage.is_lost else stage.probability,
        owner=owner,
        lost_reason=world.pick(CHURN_REASONS if renewal else LOST_REASONS) if stage.is_lost else "",
        closed_at=last_move if closed else None,
        stage_changed_at=last_move,
        custom_fields=world.custom("deal", "renewal_date", close_date.isoformat()) if renewal else {},
        created_at=started,
        updated_at=last_move,
    )
    previous = None
    for to_stage, moment in zip(path, moves, strict=True):
        out.stage_changes.append(
            StageChange(deal=deal, from_stage=previous, to_stage=to_stage, changed_at=moment, changed_by=owner)
        )
        previous = to_stage
    if stage.is_won and company is not None:
        company.lifecycle_stage = LifecycleStage.CUSTOMER
    return deal


def _end(world: World, started: dt.datetime, last: Stage) -> dt.datetime:
    """The latest a deal's moves may reach: soon after its start when won, later when lost, now when open."""
    latest = world.days_ago(0.05, 0.1)
    if last.is_won:
        return min(started + dt.timedelta(days=world.rng.uniform(14, 90)), latest)
    if last.is_lost:
        return min(started + dt.timedelta(days=world.rng.uniform(30, 240)), latest)
    return latest


def _name(world: World, company, renewal: bool, close_date: dt.date) -> str:
    who = company.name if company else "New customer"
    return f"{who} – Renewal {close_date.year}" if renewal else f"{who} – {world.pick(PRODUCTS)}"


def _contacts(world: World, deal: Deal, candidates: list, out: Sales) -> None:
    """One to three of the company's contacts, each in a role; the first decides."""
    chosen = world.rng.sample(candidates, min(len(candidates), world.rng.randint(1, 3)))
    roles = ["decision_maker", *world.rng.sample(ROLES[1:], len(ROLES) - 1)]
    out.deal_contacts += [DealContact(deal=deal, contact=c, role=r) for c, r in zip(chosen, roles, strict=False)]
    out.contacts_of[id(deal)] = chosen
