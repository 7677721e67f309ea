"""Calendar replies received by a synced mailbox: an iCalendar METHOD:REPLY (Outlook's "Accepted: ...",
Google's "Invitation: ... - Accepted") sets the attendee's answer on the meeting it names.

The meeting is found by the event's UID, the one invitations carry (crm/web/ics.py ``uid_of``), and the
attendee by address among those the invitation went to (crm.mail.models.MeetingAttendee). The reply must
come from that address: anyone can write an ATTENDEE line, so a reply from someone else about an
attendee changes nothing. A reply for an unknown meeting, from a non-attendee, or older than the answer
already stored (by DTSTAMP: two folders, a resync) is ignored and logged. The message itself is filed
like any other (sync.py) when it is about a known contact."""

from __future__ import annotations

import datetime as dt
import logging
import re

import icalendar
from django.utils import timezone

from crm.mail.models import MeetingAttendee, PartStat
from crm.web import ics

log = logging.getLogger("crm.mailbox")
ANSWERS = {PartStat.ACCEPTED, PartStat.DECLINED, PartStat.TENTATIVE}


def _meeting_id(uid: str) -> int | None:
    """The meeting's id from its UID, only when the UID is this installation's (``activity-N@host``)."""
    found = re.fullmatch(r"activity-(\d{1,18})@(.+)", uid.strip())
    if found is None or ics.uid_of("activity", int(found.group(1))) != uid.strip():
        return None
    return int(found.group(1))


def _stamp(event) -> dt.datetime:
    try:
        value = event.decoded("dtstamp")
    except (KeyError, ValueError, TypeError):
        return timezone.now()
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    return timezone.now()


def _address(value) -> str:
    return str(value).strip().lower().removeprefix("mailto:").strip()


def apply(calendar_text: str, sender: str, mailbox_id: int) -> int:
    """Apply the answers of a METHOD:REPLY; the number of attendee answers changed."""
    try:
        cal = icalendar.Calendar.from_ical(calendar_text)
    except Exception:  # icalendar raises ValueError and others on malformed text
        log.info("Mailbox %s: a calendar part that does not parse, ignored", mailbox_id)
        return 0
    if str(cal.get("method", "")).upper() != "REPLY":
        return 0  # an invitation someone sent the user, not a reply to ours
    changed = 0
    for event in cal.walk("VEVENT"):
        changed += _event(event, sender, mailbox_id)
    return changed


def _event(event, sender: str, mailbox_id: int) -> int:
    uid = str(event.get("uid", ""))
    meeting_id = _meeting_id(uid)
    if meeting_id is None or not MeetingAttendee.objects.filter(activity_id=meeting_id).exists():
        log.info(
            "Mailbox %s: a calendar reply for an unknown meeting (UID %r) from %s, ignored", mailbox_id, uid, sender
        )
        return 0
    attendees = event.get("attendee", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    changed = 0
    for attendee in attendees:
        address = _address(attendee)
        status = str(attendee.params.get("PARTSTAT", "")).upper()
        if address != sender or status not in ANSWERS:
            log.info("Mailbox %s: meeting %s: a reply for %r from %s, ignored", mailbox_id, meeting_id, address, sender)
            continue
        row = MeetingAttendee.objects.filter(activity_id=meeting_id, email=address).first()
        if row is None:
            log.info(
                "Mailbox %s: meeting %s: a reply from %s, who is not an attendee, ignored",
                mailbox_id,
                meeting_id,
                address,
            )
            continue
        stamp = _stamp(event)
        if row.answered_at is not None and stamp < row.answered_at:
            continue  # an older answer than the one stored
        row.status, row.answered_at = status, stamp
        row.save(update_fields=["status", "answered_at"])
        changed += 1
    return changed
