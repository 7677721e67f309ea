"""Saved list views: a few built in per list ("My open deals"), plus the user's and their team's;
and the service that saves, replaces and deletes them (checked, and written to the change log)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.access.policy import policy_for
from crm.audit import configwrites
from crm.core import recordtypes
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
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


# --- writes: only the owner changes or deletes a view; shared ones too (the team only sees them) ---

FIELDS = ("name", "query", "shared")


def get_managed(*, actor, pk) -> SavedView:
    """The view if ``actor`` may change or delete it (they own it); otherwise NotFound, whether or not
    it exists or they see it through their team, as for a record they may not act on."""
    view = SavedView.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if view is None or not _manages(actor, view):
        raise NotFound(f"No saved view with id {pk} of yours.")
    return view


def _manages(actor, view: SavedView) -> bool:
    return actor is not None and actor.pk is not None and view.owner_id == actor.pk


def _cleaned(data: dict) -> dict:
    out = {k: data[k] for k in FIELDS if k in data}
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            raise ValidationFailed({"name": "Give the view a name."})
    if "query" in out:
        out["query"] = out["query"] or ""
    return out


@transaction.atomic
def saved_view_create(*, actor, kind: str, data: dict) -> tuple[SavedView, bool]:
    """Save a list's filters under a name; the actor's own view of that name on that list is
    replaced (saving "Big ones" again updates it rather than adding a second "Big ones").
    Returns (view, created)."""
    record_type = recordtypes.by_slug(kind)
    if record_type is None or not record_type.pages:
        raise ValidationFailed({"kind": f"No list named {kind!r}."})
    if not policy_for(actor).allows(record_type.object_type, "view"):
        raise PermissionDenied(f"You may not view {record_type.plural}.")
    data = _cleaned(data)
    mine = SavedView.objects.filter(owner_id=actor.pk, kind=kind, name=data.get("name")).order_by("id").first()
    if mine is not None:
        return saved_view_update(mine, actor=actor, data=data), False
    view = SavedView(owner=actor, kind=kind, **data)
    return configwrites.create(view, actor=actor), True


@transaction.atomic
def saved_view_update(view: SavedView, *, actor, data: dict) -> SavedView:
    if not _manages(actor, view):
        raise NotFound(f"No saved view with id {view.pk} of yours.")
    return configwrites.update(view, actor=actor, data=_cleaned(data), fields=FIELDS)


@transaction.atomic
def saved_view_delete(view: SavedView, *, actor) -> None:
    if not _manages(actor, view):
        raise NotFound(f"No saved view with id {view.pk} of yours.")
    from crm.web.column_widths import forget_view  # column_widths reads the views: import here

    forget_view(view, actor=actor)
    configwrites.delete(view, actor=actor)
