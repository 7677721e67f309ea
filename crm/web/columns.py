"""The column chooser of list pages: which of a list's columns show, in which order. A user's choice is
kept per list (``ListColumns``); a saved view carries its own in its query (``cols=name,email``), which
wins while that view is open. The first declared column (the record's name, the link to its page, the
sticky one) always comes first; columns the role may not see are never offered nor shown."""

from __future__ import annotations

from django.db import transaction

from crm.access.policy import policy_for
from crm.audit import configwrites
from crm.core import recordtypes
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.web.models import ListColumns
from crm.web.registry import Column

PARAM = "cols"  # the query parameter of a view's columns (not a filter)


def parse(raw: str | None) -> list[str]:
    return [k for k in (p.strip() for p in (raw or "").split(",")) if k]


def stored(kind_slug: str, user) -> list[str]:
    row = ListColumns.objects.filter(owner_id=user.pk, kind=kind_slug).first()
    return list(row.columns) if row else []


def chosen(kind_slug: str, user, available: list[Column], raw: str | None = None) -> list[Column]:
    """The columns to show: the URL's ``cols`` (a saved view's), else the user's choice, else all the
    available ones. Keys no longer available (a field removed, or hidden from the role) are skipped."""
    keys = parse(raw) if raw else stored(kind_slug, user)
    if not keys or not available:
        return available
    by_key = {c.key: c for c in available}
    first = available[0]
    return [first, *(by_key[k] for k in dict.fromkeys(keys) if k in by_key and k != first.key)]


def query_value(columns: list[Column], available: list[Column]) -> str:
    """``cols`` for a saved view's query, or "" when the columns are the list's own."""
    keys = [c.key for c in columns]
    return "" if keys == [c.key for c in available] else ",".join(keys)


@transaction.atomic
def columns_save(*, actor, kind_slug: str, keys: list[str], available: list[Column]) -> ListColumns:
    """Keep ``keys`` (in order) as the actor's columns of a list; unknown keys are refused by name."""
    rt = recordtypes.by_slug(kind_slug)
    if rt is None or not rt.pages:
        raise ValidationFailed({"kind": f"No list named {kind_slug!r}."})
    if not policy_for(actor).allows(rt.object_type, "view"):
        raise PermissionDenied(f"You may not view {rt.plural}.")
    offered = [c.key for c in available]
    unknown = [k for k in keys if k not in offered]
    if unknown:
        raise ValidationFailed({PARAM: f"No column {', '.join(unknown)} in this list."})
    keys = list(dict.fromkeys([offered[0], *keys])) if offered else []
    row = ListColumns.objects.filter(owner_id=actor.pk, kind=kind_slug).first()
    if row is None:
        return configwrites.create(ListColumns(owner=actor, kind=kind_slug, columns=keys), actor=actor)
    return configwrites.update(row, actor=actor, data={"columns": keys}, fields=("columns",))


@transaction.atomic
def columns_reset(*, actor, kind_slug: str) -> None:
    """Back to the list's own columns."""
    row = ListColumns.objects.filter(owner_id=actor.pk, kind=kind_slug).first()
    if row is not None:
        configwrites.delete(row, actor=actor)
