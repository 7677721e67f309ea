"""The time the services stamp on what they write: now, unless a trusted caller says otherwise.

Only code can set another time (``at``), never a request: the demo loader uses it to build a history
(a deal won last spring, its stage moves over the months before, a task done last week) through the
same services as everyone else, so its records look like a year of real use. Everything a service
stamps reads ``now()``: created/updated times, stage changes, close and completion times, and the
change log.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt

from django.utils import timezone

_at: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("clock_at", default=None)


def now() -> dt.datetime:
    return _at.get() or timezone.now()


@contextlib.contextmanager
def at(moment: dt.datetime | None):
    """Services called inside this block stamp ``moment`` (None: the real time)."""
    token = _at.set(moment)
    try:
        yield
    finally:
        _at.reset(token)
