"""The per-user calendar feed: a secret URL (/calendar/feed/<token>.ics) that Google, Apple or Outlook
calendars subscribe to, serving the user's meetings and open tasks as iCalendar.

The token is the only credential (calendar clients send no cookies), so it is handled like an API
token: 256 random bits, only its SHA-256 stored, shown once. A user has at most one feed; making a new
one replaces (revokes) the old, and revoking deletes the row, so the old URL is a 404 at once.

What the feed shows is what the user would see on their own calendar page (crm/web/calendar.py reads it,
as that user: restricted querysets, field rules) over a fixed window: WINDOW_PAST days back to
WINDOW_AHEAD days ahead. Done and cancelled tasks are left out."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.db import transaction
from django.utils import timezone

from crm.access.models import hash_token
from crm.access.policy import remember_profile
from crm.audit import configwrites
from crm.web import calendar as cal
from crm.web import ics
from crm.web.models import CalendarFeed

PREFIX = "cal_"
WINDOW_PAST = 90  # days: recent meetings stay visible for notes and follow-ups
WINDOW_AHEAD = 365  # days: a year of planning; older/farther items would only slow every refresh
# "cal_" + token_urlsafe(32) (43 characters); anything else is refused before any query.
TOKEN_SHAPE = re.compile(r"cal_[A-Za-z0-9_-]{43}")


@transaction.atomic
def feed_create(*, actor) -> tuple[CalendarFeed, str]:
    """A new feed for ``actor`` (replacing theirs, if any) and its raw token: show it now, it cannot
    be read again."""
    feed_revoke(actor=actor)
    raw = PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(user=actor, key_hash=hash_token(raw), prefix=raw[:12])
    configwrites.create(feed, actor=actor)
    return feed, raw


@transaction.atomic
def feed_revoke(*, actor) -> bool:
    """Deletes ``actor``'s feed (its URL is a 404 from now on); False if there was none."""
    feed = CalendarFeed.objects.filter(user=actor).first()
    if feed is None:
        return False
    configwrites.delete(feed, actor=actor)
    return True


def feed_of(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def user_for(raw: str):
    """The active user whose feed token ``raw`` is, else None (malformed, revoked, unknown)."""
    if not isinstance(raw, str) or not TOKEN_SHAPE.fullmatch(raw):
        return None
    found = (
        CalendarFeed.objects.select_related("user__profile__role")
        .filter(key_hash=hash_token(raw), user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or (now - found.last_used_at) > dt.timedelta(hours=1):
        CalendarFeed.objects.filter(pk=found.pk).update(last_used_at=now)  # shown on the settings page
    user = found.user
    remember_profile(user, getattr(user, "profile", None))
    return user


def window(today: dt.date | None = None) -> cal.Span:
    today = today or timezone.localdate()
    first, last = today - dt.timedelta(days=WINDOW_PAST), today + dt.timedelta(days=WINDOW_AHEAD)
    return cal.Span("feed", today, first, last, first, last)


def feed_ics(user, base_url: str) -> bytes:
    """The iCalendar text of ``user``'s feed; ``base_url`` (scheme and host) makes record links absolute."""
    from crm.mail import meetings  # location, video link and time zone of the meetings, in one query

    out = ics.new_calendar(name="CRM")
    items = cal.items_for(user, user, window())
    details = meetings.details_by_activity(i.record.pk for i in items if i.kind == "meeting")
    for item in items:
        url = _url(base_url, item.opens)
        if item.kind == "meeting":
            found = details.get(item.record.pk)
            event = ics.meeting_event(item.record, url=url, details=found, tz=meetings.zone(found))
            out.add_component(event)
        elif not item.done:
            out.add_component(ics.task_event(item.record, url=url))
    return ics.finish(out)


def _url(base_url: str, record) -> str:
    from crm.web.templatetags.web import record_url  # the template tag knows each type's page

    path = record_url(record) if record is not None else ""
    return base_url + path if path else ""
