"""Statements follow their deals and orders: a deal or order event enqueues the
"commissions.recalculate" job (crm/automation/jobs.py), which recalculates every statement the record
feeds or fed — the reps credited (owner or splits) in the periods of its dates (won, ordered,
cancelled), and any statement that already has a line about it (a deleted or re-assigned record).
A recalculation that changes nothing writes nothing (crm/commissions/statements.py); the reps of one
period are computed in one pass (crm/commissions/batch.py)."""

from __future__ import annotations

from django.utils import timezone

from crm.automation import jobs
from crm.commissions.models import DealSplit, PlanAssignment, StatementLine
from crm.core.events import Event

JOB = "commissions.recalculate"
TYPES = ("deal", "order")


def on_event(event: Event) -> None:
    """Record events only: a stage move emits record.updated besides deal.stage_changed / deal.won."""
    if event.object_type not in TYPES or not event.type.startswith("record."):
        return
    # Installations without commission plans pay one cheap query per deal/order write, no job.
    if PlanAssignment.objects.exists() and _matters(event.object_type, event.object_id):
        enqueue_for(event.object_type, event.object_id)


def _matters(object_type: str, object_id: int) -> bool:
    """Any order may credit or claw back; a deal only when won or already on a statement."""
    from crm.records.models import Deal, DealStatus

    if object_type == "order":
        return True
    named = StatementLine.objects.filter(source_type="deal", source_id=object_id).exists()
    return named or Deal.objects.filter(pk=object_id, status=DealStatus.WON).exists()


def enqueue_for(object_type: str, object_id: int) -> None:
    jobs.enqueue(JOB, {"type": object_type, "id": object_id})


def _people_and_days(object_type: str, object_id: int) -> tuple[set[int], set]:
    from crm.orders.models import Order
    from crm.records.models import Deal

    people, days, deal = set(), set(), None
    if object_type == "order":
        order = Order.objects.filter(pk=object_id).select_related("deal").first()
        if order is not None:
            people.add(order.owner_id)
            days.add(order.order_date)
            if order.cancelled_at:
                days.add(timezone.localdate(order.cancelled_at))
            deal = order.deal
    else:
        deal = Deal.objects.filter(pk=object_id).first()
        if deal is not None:
            for o in deal.orders.all():
                days.add(o.order_date)
                if o.cancelled_at:
                    days.add(timezone.localdate(o.cancelled_at))
    if deal is not None:
        people.add(deal.owner_id)
        people |= set(DealSplit.objects.filter(deal=deal).values_list("user_id", flat=True))
        if deal.closed_at:
            days.add(timezone.localdate(deal.closed_at))
    return people - {None}, days


def targets(object_type: str, object_id: int) -> list[PlanAssignment]:
    people, days = _people_and_days(object_type, object_id)
    found = {}
    for day in days:
        for a in PlanAssignment.objects.filter(rep_id__in=people, period_start__lte=day, period_end__gt=day):
            found[a.pk] = a
    named = StatementLine.objects.filter(source_type=object_type, source_id=object_id).values_list(
        "statement__rep_id", "statement__period_kind", "statement__period_start"
    )
    for rep_id, kind, start in set(named):
        for a in PlanAssignment.objects.filter(rep_id=rep_id, period_kind=kind, period_start=start):
            found[a.pk] = a
    return list(found.values())


@jobs.handler(JOB)
def recalculate_job(job) -> dict:
    """All the statements the record feeds, each period's reps computed in one pass."""
    from crm.commissions.statements import recalculate_many

    done = recalculate_many(targets(job.payload["type"], job.payload["id"]))
    return {"written": sum(created for _, created in done.values())}
