"""Meeting invitations: an iCalendar METHOD:REQUEST (or, to call it off, METHOD:CANCEL) sent through the
outbox to the meeting's contact participants and invited users (crm/mail/meetings.py), so it lands
in their calendar app and on their timelines.

Sending is asked for (the API's invitation endpoint), never automatic on every save: a typo fix must not
mail a customer. The meeting's UID is the one the calendar feed uses (crm/web/ics.py); each invitation
for a meeting carries a SEQUENCE one above the last sent (crm.mail.models.MeetingInvitation), which is
how attendees' calendars know an update or a cancellation supersedes what they have."""

from __future__ import annotations

import datetime as dt

import icalendar
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from crm.core.errors import ValidationFailed
from crm.mail import meetings, outbox
from crm.mail.models import MeetingInvitation, OutgoingEmail, PartStat
from crm.records.models import Activity
from crm.web import ics

REQUEST, CANCEL = "REQUEST", "CANCEL"


def _calendar(meeting: Activity, details, attendees, organizer, method: str, sequence: int, answers) -> bytes:
    cal = ics.new_calendar(method=method)
    # The invitation's own SEQUENCE (not the record's version) and DTSTAMP (when this message was made).
    status = "CANCELLED" if method == CANCEL else "CONFIRMED"
    ev = ics.meeting_event(
        meeting, status=status, sequence=sequence, stamp=timezone.now(), details=details, tz=meetings.zone(details)
    )
    name = organizer.get_full_name() or organizer.get_username()
    ev.add("organizer", icalendar.vCalAddress.new(organizer.email or settings.DEFAULT_FROM_EMAIL, cn=name))
    for p in attendees:
        # An update repeats the answers received, so an attendee's calendar does not ask them again.
        partstat = answers.get(p.email, PartStat.NEEDS_ACTION)
        ev.add(
            "attendee",
            icalendar.vCalAddress.new(
                p.email, cn=p.name or None, role="REQ-PARTICIPANT", partstat=partstat, rsvp=method == REQUEST
            ),
        )
    cal.add_component(ev)
    return ics.finish(cal)


def _when(meeting: Activity, details) -> str:
    tz = meetings.zone(details)
    start = timezone.localtime(meeting.occurred_at, tz) if tz else timezone.localtime(meeting.occurred_at, dt.UTC)
    return start.strftime("%Y-%m-%d %H:%M ") + (details.time_zone if tz else "UTC")


@transaction.atomic
def send_invitation(meeting_id: int, *, actor, cancel: bool = False) -> OutgoingEmail:
    """Queue the invitation (or cancellation) of a meeting to its contacts with an address."""
    meeting = meetings.meeting_for(actor, meeting_id, "change")
    details = meetings.details_of(meeting)
    attendees = meetings.invitees(actor, meeting, details)
    if not attendees:
        raise ValidationFailed(
            {"participant_ids": "The meeting has no contact with an email address to invite, and no invited user."}
        )
    # Locks the meeting's invitations: two sends at once would otherwise carry the same SEQUENCE.
    sent = list(MeetingInvitation.objects.select_for_update().filter(activity_id=meeting.pk).order_by("-sequence"))
    if cancel and not sent:
        raise ValidationFailed({"cancel": "No invitation was sent for this meeting: there is nothing to cancel."})
    sequence = sent[0].sequence + 1 if sent else 0
    method = CANCEL if cancel else REQUEST
    answers = meetings.record_invitees(meeting, attendees)
    body = _calendar(meeting, details, attendees, actor, method, sequence, answers)
    attachment = SimpleUploadedFile("invite.ics", body, content_type=f"text/calendar; method={method}")
    subject = ("Cancelled: " if cancel else "Invitation: " if not sent else "Updated invitation: ") + (
        meeting.subject or "Meeting"
    )
    lines = [f"{'Cancelled' if cancel else 'When'}: {_when(meeting, details)}"]
    if details is not None and details.location:
        lines.append(f"Where: {details.location}")
    if details is not None and details.video_url:
        lines.append(f"Join: {details.video_url}")
    email = outbox.queue_email(
        actor=actor,
        to=[p.email for p in attendees],
        subject=subject,
        body_html="".join(f"<p>{escape(x)}</p>" for x in [*lines, meeting.body] if x),
        links=[{"type": "contact", "id": p.contact_id} for p in attendees if p.contact_id],
        attachments=[attachment],
    )
    MeetingInvitation.objects.create(activity_id=meeting.pk, sequence=sequence, method=method, email=email)
    return email


@transaction.atomic
def update_details(meeting_id: int, *, actor, data: dict, send_update: bool = False) -> OutgoingEmail | None:
    """Save the meeting's details; with ``send_update``, and an invitation out that was not cancelled,
    the attendees get the update at once (a new REQUEST, SEQUENCE one higher)."""
    meetings.meeting_set_details(meeting_id, actor=actor, data=data)
    if not send_update:
        return None
    last = MeetingInvitation.objects.filter(activity_id=meeting_id).order_by("-sequence").first()
    if last is None or last.method != REQUEST:
        raise ValidationFailed({"send_update": "No invitation is out for this meeting: send one first."})
    return send_invitation(meeting_id, actor=actor)
