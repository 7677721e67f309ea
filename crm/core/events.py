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


# Lookups subscribers share while one batch of events is dispatched (see emit_many and cached).
_batch_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("event_batch_cache", default=None)


def cached(key, load: Callable[[], object]):
    """``load()`` once per dispatched batch of events (a bulk import's thousand record.created events
    read the rules once, not a thousand times); outside a batch, every time."""
    cache = _batch_cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def emit(type_: str, obj, *, actor=None, changes: dict | None = None) -> None:
    event = _event(type_, obj, actor, changes)
    transaction.on_commit(lambda: _dispatch(event))


def emit_many(type_: str, objs: list, *, actor=None, changes: list[dict]) -> None:
    """One event per record, dispatched together after commit (bulk paths)."""
    batch = [_event(type_, obj, actor, c) for obj, c in zip(objs, changes, strict=True)]
    if batch:
        transaction.on_commit(lambda: _dispatch_many(batch))


def _dispatch_many(batch: list[Event]) -> None:
    token = _batch_cache.set({})
    try:
        for event in batch:
            _dispatch(event)
    finally:
        _batch_cache.reset(token)


def _event(type_: str, obj, actor, changes: dict | None) -> Event:
    return Event(
        type=type_,
        object_type=obj.object_type,
        object_id=obj.pk,
        actor_id=getattr(actor, "pk", None),
        changes=changes or {},
        source=context.source(),
        depth=depth.get(),
    )


def _dispatch(event: Event) -> None:
    for fn in list(_subscribers):
        try:
            fn(event)
        except Exception:  # a subscriber's failure is its own; the change stands
            log.exception("Event subscriber %s failed on %s", getattr(fn, "__name__", fn), event.type)
