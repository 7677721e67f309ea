"""The calendar's reads: the days a day/week/month view spans in the user's time zone, the meetings
(activities of kind meeting, by their time) and tasks (by their due time) of one person that the viewer
may see, placed in their local day and hour, and whose calendars a viewer may pick.

Days are the user's (the middleware activated their zone): a range runs from local midnight to local
midnight, so a meeting at 23:30 in New York is on that New York day even when UTC is already the next,
and a DST day simply has 23 or 25 hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.access.policy import policy_for
from crm.records.models import Activity, Task
from crm.records.models.activities import ActivityKind, TaskStatus
from crm.records.selectors import attach_linked
from crm.web.views.home import without_hidden

VIEWS = ("day", "week", "month")


@dataclass
class Span:
    """What one view shows: its first and last day (inclusive), the days in order, its neighbours."""

    view: str
    anchor: dt.date
    first: dt.date
    last: dt.date
    prev: dt.date
    next: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1))


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def span_of(view: str, anchor: dt.date) -> Span:
    """The days of ``view`` around ``anchor``: that day; its Monday-to-Sunday week; or the weeks
    (Monday to Sunday) that cover its month, as a month grid shows them."""
    if view == "day":
        one = dt.timedelta(days=1)
        return Span(view, anchor, anchor, anchor, anchor - one, anchor + one)
    if view == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        week = dt.timedelta(days=7)
        return Span(view, anchor, monday, monday + dt.timedelta(days=6), anchor - week, anchor + week)
    first_of_month = anchor.replace(day=1)
    next_month = (first_of_month + dt.timedelta(days=32)).replace(day=1)
    last_of_month = next_month - dt.timedelta(days=1)
    prev_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    first = first_of_month - dt.timedelta(days=first_of_month.weekday())
    last = last_of_month + dt.timedelta(days=6 - last_of_month.weekday())
    return Span(view, anchor, first, last, prev_month, next_month)


@dataclass
class Item:
    """A meeting or a task as the calendar places it."""

    kind: str  # "meeting" or "task"
    record: object
    at: dt.datetime  # local
    title: str
    may_change: bool
    done: bool = False
    opens: object = None  # the record the item links to: the task itself, a meeting's first linked record

    @property
    def day(self) -> dt.date:
        return self.at.date()

    @property
    def hour(self) -> int:
        return self.at.hour

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.record.pk}"


@dataclass
class Calendar:
    span: Span
    items: list[Item] = field(default_factory=list)

    def on(self, day: dt.date) -> list[Item]:
        return [i for i in self.items if i.day == day]

    def at(self, day: dt.date, hour: int) -> list[Item]:
        return [i for i in self.items if i.day == day and i.hour == hour]


def items_for(viewer, person, span: Span) -> list[Item]:
    """``person``'s meetings and tasks in ``span`` that ``viewer`` may see, by time. A type the
    viewer's role may not see, or whose time field the role hides, contributes nothing."""
    policy = policy_for(viewer)
    items: list[Item] = []
    if policy.allows("activity", "view") and "occurred_at" not in policy.hidden_fields("activity"):
        meetings = list(
            Activity.objects.restrict(viewer, "view").filter(
                kind=ActivityKind.MEETING, owner=person, occurred_at__gte=span.start, occurred_at__lt=span.end
            )
        )
        writable = _writable(Activity, viewer, meetings)
        # Activities have no page of their own: a meeting opens the first record it is about that the
        # viewer may open (whose timeline shows it), else it is shown without a link.
        for m in without_hidden(viewer, "activity", attach_linked(meetings, viewer)):
            at = timezone.localtime(m.occurred_at)
            opens = m.linked[0] if m.linked else None
            items.append(Item("meeting", m, at, m.subject or "Meeting", m.pk in writable, opens=opens))
    if policy.allows("task", "view") and "due_at" not in policy.hidden_fields("task"):
        tasks = list(
            Task.objects.restrict(viewer, "view").filter(assignee=person, due_at__gte=span.start, due_at__lt=span.end)
        )
        writable = _writable(Task, viewer, tasks)
        # A field the viewer's role hides (the title) is blanked on these display copies.
        for t in without_hidden(viewer, "task", tasks):
            done = t.status in (TaskStatus.DONE, TaskStatus.CANCELLED)
            items.append(
                Item("task", t, timezone.localtime(t.due_at), t.title or "Task", t.pk in writable, done, opens=t)
            )
    items.sort(key=lambda i: (i.at, i.kind, i.record.pk))
    return items


def _writable(model, viewer, rows) -> set[int]:
    """The ids among ``rows`` the viewer may change (one query): only those get a drag handle."""
    if not policy_for(viewer).allows(model._meta.model_name, "change"):
        return set()
    ids = [r.pk for r in rows]
    return set(model.objects.restrict(viewer, "change").filter(pk__in=ids).values_list("pk", flat=True))


def people_for(viewer) -> list:
    """Whose calendar ``viewer`` may pick: themselves, and the owners their role's scope covers
    (their team and the teams they manage, or everyone), active users only."""
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    owners = policy_for(viewer).visible_owner_ids()
    if owners is not None:
        users = users.filter(pk__in=owners | {viewer.pk})
    return list(users)


def new_moment(current: dt.datetime | None, day: dt.date, at: dt.time | None) -> dt.datetime:
    """Where a drop puts an item: ``day`` at ``at`` (a time slot), else at its current local time of
    day (a month cell keeps the hour), in the user's zone."""
    if at is None:
        at = timezone.localtime(current).time() if current else dt.time(9, 0)
    return timezone.make_aware(dt.datetime.combine(day, at))
