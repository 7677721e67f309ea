"""iCalendar (RFC 5545) text for meetings and tasks, built with the ``icalendar`` package: it folds
lines and escapes commas, semicolons, backslashes and newlines in SUMMARY/DESCRIPTION/LOCATION, which
hand-written text would get wrong. Used by the per-user feed (crm/web/feeds.py) and by meeting
invitations (crm/mail/invitations.py).

Times are written in UTC (a trailing Z), except a meeting whose details name a time zone (the
organizer's, crm/mail/meetings.py): its start and end carry TZID and the calendar a VTIMEZONE for that
zone (``finish``), so "10:00 Europe/Paris" stays 10:00 across a daylight-saving change.
UIDs are stable per record (``activity-12@host``), so a client that
re-fetches the feed updates an event in place instead of duplicating it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone

PRODID = "-//Open CRM//Calendar//EN"
MEETING_MINUTES = 30  # a meeting without a duration: the length calendars show it with
TASK_MINUTES = 15  # a task is a short event at its due time (subscribed calendars ignore VTODO)


def uid_of(object_type: str, pk: int) -> str:
    """The same for a record across feeds, invitations and hosts' restarts: the installation's host
    (CRM_BASE_URL) keeps two CRMs' UIDs apart in one subscriber's calendar."""
    host = urlsplit(settings.CRM_BASE_URL).hostname or "crm.invalid"
    return f"{object_type}-{pk}@{host}"


def utc(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, dt.UTC)


def local(moment: dt.datetime, tz) -> dt.datetime:
    return utc(moment) if tz is None else timezone.localtime(moment, tz)


def finish(cal: icalendar.Calendar) -> bytes:
    """The calendar's text, with a VTIMEZONE for each TZID its events use (none when all are UTC)."""
    cal.add_missing_timezones()
    return cal.to_ical()


def new_calendar(name: str = "", method: str = "") -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def event(
    *,
    uid: str,
    start: dt.datetime,
    minutes: int,
    summary: str,
    stamp: dt.datetime,
    description: str = "",
    location: str = "",
    url: str = "",
    sequence: int = 0,
    status: str = "",
    tz=None,
    conference: str = "",
) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", utc(stamp))
    ev.add("dtstart", local(start, tz))
    ev.add("dtend", local(start + dt.timedelta(minutes=max(minutes, 1)), tz))
    ev.add("summary", summary)
    ev.add("sequence", sequence)
    if description:
        ev.add("description", description)
    if location:
        ev.add("location", location)
    if url:
        ev.add("url", url)
    if status:
        ev.add("status", status)
    if conference:  # RFC 7986; clients that ignore it still find the link in the description
        ev.add("conference", conference, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    return ev


def meeting_event(
    activity,
    *,
    url: str = "",
    status: str = "",
    sequence: int | None = None,
    stamp: dt.datetime | None = None,
    details=None,
    tz=None,
) -> icalendar.Event:
    """A meeting (an activity of kind meeting) as an event. In the feed its version is the SEQUENCE,
    which grows with every save, so a client always takes the newer copy; an invitation passes its own.
    ``details`` (crm.mail.models.MeetingDetails) add location and video link; ``tz`` its zone."""
    video = details.video_url if details is not None else ""
    description = "\n\n".join(x for x in (activity.body, f"Join: {video}" if video else "") if x)
    return event(
        uid=uid_of("activity", activity.pk),
        start=activity.occurred_at,
        minutes=activity.duration_minutes or MEETING_MINUTES,
        summary=activity.subject or "Meeting",
        stamp=stamp or activity.updated_at,
        description=description,
        location=details.location if details is not None else "",
        url=url,
        sequence=activity.version if sequence is None else sequence,
        status=status,
        tz=tz,
        conference=video,
    )


def task_event(task, *, url: str = "") -> icalendar.Event:
    return event(
        uid=uid_of("task", task.pk),
        start=task.due_at,
        minutes=TASK_MINUTES,
        summary=f"Task: {task.title or 'Task'}",
        stamp=task.updated_at,
        description=task.description,
        url=url,
        sequence=task.version,
    )
