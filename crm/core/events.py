"""Domain events, published after the transaction commits (after NetBox's event rules).

Services emit; other apps (automation, webhooks) subscribe. The core never imports them, and a
failing subscriber never undoes or breaks the change that caused the event.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from crm.core import context

log = logging.getLogger("crm.events")

# How deep in a chain of automated changes we are: automation raises it to stop loops.
depth: contextvars.ContextVar[int] = contextvars.ContextVar("event_depth", default=0)


@dataclass(frozen=True)
class Event:
    type: str  # record.created, record.updated, record.deleted, deal.stage_changed, deal.won, deal.lost
    object_type: str
    object_id: int
    actor_id: int | None
    changes: dict = field(default_factory=dict)
    at: object = field(default_factory=timezone.now)
    source: str = "system"
    depth: int = 0


_subscribers: list[Callable[[Event], None]] = []


def subscribe(fn: Callable[[Event], None]) -> Callable[[Event], None]:
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def unsubscribe(fn: Callable[[Event], None]) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def emit(type_: str, obj, *, actor=None, changes: dict | None = None) -> None:
    event = Event(
        type=type_,
        object_type=obj.object_type,
        object_id=obj.pk,
        actor_id=getattr(actor, "pk", None),
        changes=changes or {},
        source=context.source(),
        depth=depth.get(),
    )
    transaction.on_commit(lambda: _dispatch(event))


def _dispatch(event: Event) -> None:
    for fn in list(_subscribers):
        try:
            fn(event)
        except Exception:  # a subscriber's failure is its own; the change stands
            log.exception("Event subscriber %s failed on %s", getattr(fn, "__name__", fn), event.type)
