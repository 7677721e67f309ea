"""Saved list views: a few built in per list ("My open deals"), plus the user's and their team's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

from crm.access.policy import policy_for
from crm.web.models import SavedView


@dataclass(frozen=True)
class View:
    key: str
    name: str
    query: str
    shared: bool = False
    mine: bool = False

    @property
    def href(self) -> str:
        sep = "&" if self.query else ""
        return f"?{self.query}{sep}view={self.key}"


def month_bounds(today: dt.date) -> tuple[str, str]:
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start.isoformat(), end.isoformat()


def builtin_views(kind, user) -> list[View]:
    me = user.pk
    if kind.slug == "deals":
        start, end = month_bounds(timezone.localdate())
        return [
            View("mine", "My open deals", urlencode({"owner": me, "status": "open"})),
            View(
                "month",
                "Closing this month",
                urlencode({"status": "open", "expected_close_date__gte": start, "expected_close_date__lte": end}),
            ),
        ]
    if kind.slug == "tasks":
        return [
            View(
                "mine", "My open tasks", urlencode({"assignee": me, "status__in": "open,in_progress", "sort": "due_at"})
            )
        ]
    if kind.slug == "leads":
        return [View("mine", "My open leads", urlencode({"owner": me, "status__in": "new,working,nurturing"}))]
    return [View("mine", f"My {kind.plural}", urlencode({"owner": me}))]


def visible_views(kind, user) -> list[View]:
    """The user's own views and the ones their team shares."""
    team = policy_for(user).team_member_ids
    rows = SavedView.objects.filter(kind=kind.slug).filter(Q(owner=user) | Q(shared=True, owner_id__in=sorted(team)))
    return [View(str(v.pk), v.name, v.query, v.shared, v.owner_id == user.pk) for v in rows]
