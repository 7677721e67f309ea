"""Demo timeline: notes, calls, meetings and emails over the last year, and tasks around today.

Each entry hangs off an anchor record (a contact, deal, company or lead) and is linked to that
record's company/contact/deal too, so it shows on every timeline it belongs to, and never before
the anchor existed. Entries are planned as the service's data plus the (not yet saved) records they
link to; saving.py turns the links into ``company_id``... once those records have ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from crm.demo import catalog
from crm.demo.companies import Companies
from crm.demo.contacts import People
from crm.demo.deals import Sales
from crm.demo.world import World
from crm.records.models import ActivityKind, Lead, TaskPriority, TaskStatus

YEAR = dt.timedelta(days=365)
KINDS = ((ActivityKind.NOTE, 25), (ActivityKind.CALL, 35), (ActivityKind.MEETING, 15), (ActivityKind.EMAIL, 25))
PRIORITIES = ((TaskPriority.LOW, 15), (TaskPriority.NORMAL, 55), (TaskPriority.HIGH, 22), (TaskPriority.URGENT, 8))
TASK_STATES = ((TaskStatus.OPEN, 45), (TaskStatus.IN_PROGRESS, 15), (TaskStatus.DONE, 35), (TaskStatus.CANCELLED, 5))


@dataclass
class Anchor:
    links: dict  # company / contact / deal / lead
    owner: object  # the anchor record's owner (None for an unassigned lead)
    since: dt.datetime  # nothing on it happened before this
    until: dt.datetime
    first: str  # who to greet in a subject line
    name: str
    company_name: str
    colleagues: list  # other contacts at the same company, for meeting participants


@dataclass
class Planned:
    """An activity or task to create: the service's data, the records it links to (kind -> record or
    None), when it was made (the service stamps that time, crm/core/clock.py) and, for a meeting, the
    contacts who took part."""

    data: dict
    links: dict
    at: dt.datetime | None = None
    participants: list = field(default_factory=list)


class Anchors:
    """Picks a record to hang an activity or task on, in realistic proportions."""

    def __init__(self, world: World, companies: Companies, people: People, sales: Sales, leads: list[Lead]):
        self.world, self.companies, self.people, self.sales, self.leads = world, companies, people, sales, leads
        kinds = (("contact", 50, people.records), ("deal", 25, sales.records), ("company", 10, companies.records))
        self.kinds = [(k, w) for k, w, rows in (*kinds, ("lead", 15, leads)) if rows]
        # Structure a model can learn (docs/predict.md): won deals and engaged leads were worked more.
        self.deal_weights = [3 if d.status == "won" else 1 if d.status == "lost" else 2 for d in sales.records]
        self.lead_weights = [0.2 + 2 * getattr(lead, "engagement", 0.5) for lead in leads]

    def pick(self) -> Anchor | None:
        if not self.kinds:
            return None
        kind = self.world.weighted(self.kinds)
        return getattr(self, f"_{kind}")()

    def pick_owned_by(self, user) -> Anchor | None:
        """An anchor the user owns, when a few tries find one (a rep's tasks are about their own records)."""
        anchor = None
        for _ in range(30):
            anchor = self.pick()
            if anchor is None or anchor.owner == user:
                break
        return anchor

    def _contact(self) -> Anchor:
        world = self.world
        i = world.rng.randrange(len(self.people.records))
        contact, index = self.people.records[i], self.people.company_index[i]
        deals = self.sales.by_company.get(index, []) if index is not None else []
        deal = world.pick(deals) if deals and world.chance(0.4) else None
        since = max(contact.created_at, deal.created_at if deal else contact.created_at)
        colleagues = self.people.by_company.get(index, []) if index is not None else []
        return self._anchor(contact.company, contact, deal, None, contact.owner, since, colleagues)

    def _deal(self) -> Anchor:
        deal = self.world.pick(self.sales.records, self.deal_weights)
        contacts = self.sales.contacts_of.get(id(deal), [])
        contact = self.world.pick(contacts) if contacts else None
        return self._anchor(deal.company, contact, deal, None, deal.owner, deal.created_at, contacts)

    def _company(self) -> Anchor:
        i = self.companies.pick_index(self.world)
        company = self.companies.records[i]
        colleagues = self.people.by_company.get(i, [])
        return self._anchor(company, None, None, None, company.owner, company.created_at, colleagues)

    def _lead(self) -> Anchor:
        lead = self.world.pick(self.leads, self.lead_weights)
        anchor = self._anchor(None, None, None, lead, lead.owner, lead.created_at, [])
        if getattr(lead, "close", None):
            anchor.until = lead.close[1]  # a decided lead's story ends there
        return anchor

    def _anchor(self, company, contact, deal, lead, owner, since, colleagues) -> Anchor:
        world = self.world
        person = contact or lead
        return Anchor(
            links={"company": company, "contact": contact, "deal": deal, "lead": lead},
            owner=owner,
            since=max(since, world.now - YEAR),
            until=deal.closed_at if deal and deal.closed_at else world.now,  # a closed deal's story ends there
            first=person.first_name if person else "team",
            name=person.name if person else (company.name if company else ""),
            company_name=company.name if company else (lead.company_name if lead else ""),
            colleagues=[c for c in colleagues if c is not contact],
        )


def build_activities(world: World, count: int, anchors: Anchors) -> list[Planned]:
    """The activities, meetings with their participants."""
    activities = []
    for _ in range(count):
        anchor = anchors.pick()
        if anchor is None:
            break
        data = _activity(world, anchor)
        planned = Planned(data, anchor.links, at=data["occurred_at"])
        if planned.data["kind"] == ActivityKind.MEETING:
            people = [anchor.links["contact"], *world.rng.sample(anchor.colleagues, min(2, len(anchor.colleagues)))]
            planned.participants = [c for c in people if c]
        activities.append(planned)
    return activities


def _activity(world: World, anchor: Anchor) -> dict:
    kind = world.weighted(KINDS)
    at = world.between(anchor.since, anchor.until)
    company = anchor.links["company"]
    fill = {"first": anchor.first, "industry": company.industry if company and company.industry else "their industry"}
    # Mostly the record's owner; sometimes a colleague stepped in.
    owner = anchor.owner if anchor.owner is not None and world.chance(0.85) else world.seller()
    activity = {"kind": kind, "occurred_at": at, "owner_id": owner.pk}
    if kind == ActivityKind.NOTE:
        activity["subject"] = world.pick(catalog.NOTE_SUBJECTS)
        activity["body"] = world.pick(catalog.NOTE_BODIES).format(**fill)
    elif kind == ActivityKind.CALL:
        activity["direction"] = "outbound" if world.chance(0.75) else "inbound"
        activity["outcome"] = world.weighted(catalog.CALL_OUTCOMES)
        talked = activity["outcome"] in ("Connected", "Meeting booked", "Call back later")
        activity["duration_minutes"] = world.rng.randint(3, 45) if talked else world.rng.randint(0, 2)
        activity["subject"] = f"Call with {anchor.name}" if anchor.name else "Call"
    elif kind == ActivityKind.MEETING:
        activity["subject"] = f"{world.pick(catalog.MEETING_SUBJECTS)} – {anchor.company_name or anchor.name}"
        activity["duration_minutes"] = world.pick((30, 30, 45, 60, 60, 90))
    else:
        activity["direction"] = "outbound" if world.chance(0.6) else "inbound"
        activity["subject"] = world.pick(catalog.EMAIL_SUBJECTS)
        activity["body"] = world.pick(catalog.EMAIL_BODIES).format(**fill)
    return activity


def build_tasks(world: World, count: int, anchors: Anchors) -> list[Planned]:
    """Tasks: the first ones give every rep two due today, the rest are spread around today."""
    tasks = []
    due_today = [rep for rep in world.reps for _ in range(2)]
    for i in range(count):
        rep = due_today[i] if i < len(due_today) else None
        anchor = anchors.pick_owned_by(rep) if rep else anchors.pick()
        if anchor is None:
            break
        if rep is not None:
            task = _task(world, anchor, rep, TaskStatus.OPEN, world.today_at(9 + 4 * (i % 2) + i % 3))
        else:
            status = world.weighted(TASK_STATES)
            assignee = anchor.owner if anchor.owner is not None and world.chance(0.9) else world.seller()
            task = _task(world, anchor, assignee, status, _due(world, status))
        made = min(task["due_at"], world.now) - dt.timedelta(days=world.rng.uniform(1, 20))
        tasks.append(Planned(task, anchor.links, at=max(made, anchor.since)))
    return tasks


def _due(world: World, status: str) -> dt.datetime:
    if status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return world.days_ago(1, 300)
    roll = world.rng.random()
    if roll < 0.3:
        return world.days_ago(1, 20)  # overdue
    if roll < 0.4:
        return world.today_at(world.rng.randint(9, 18))
    return world.now + dt.timedelta(days=world.rng.uniform(1, 30))


def _task(world: World, anchor: Anchor, assignee, status: str, due: dt.datetime) -> dict:
    # When it was made is the service's to stamp (Planned.at); a finished task was finished then.
    about_person = anchor.links["contact"] or anchor.links["lead"]
    titles = catalog.TASK_TITLES if about_person else catalog.COMPANY_TASK_TITLES
    title = world.pick(titles).format(first=anchor.first, name=anchor.name, company=anchor.company_name or anchor.name)
    remind = due > world.now and world.chance(0.3)
    return {
        "title": title,
        "description": "",
        "due_at": due,
        "reminder_at": due - dt.timedelta(hours=1) if remind else None,
        "assignee_id": assignee.pk,
        "status": status,
        "priority": world.weighted(PRIORITIES),
    }
