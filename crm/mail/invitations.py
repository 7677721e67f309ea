"""Meeting invitations: an iCalendar METHOD:REQUEST (or, to call it off, METHOD:CANCEL) sent through the
outbox to the meeting's contact participants, so it lands in their calendar app and on their timelines.

Sending is asked for (the API's invitation endpoint), never automatic on every save: a typo fix must not
mail a customer. The meeting's UID is the one the calendar feed uses (crm/web/ics.py); each invitation
for a meeting carries a SEQUENCE one above the last sent (crm.mail.models.MeetingInvitation), which is
how attendees' calendars know an update or a cancellation supersedes what they have."""

from __future__ import annotations

import icalendar
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from crm.core.errors import NotFound, ValidationFailed
from crm.mail import outbox
from crm.mail.models import MeetingInvitation, OutgoingEmail
from crm.records.models import Activity, Contact
from crm.records.models.activities import ActivityKind
from crm.web import ics

REQUEST, CANCEL = "REQUEST", "CANCEL"


def _meeting(actor, pk: int) -> Activity:
    """Only someone who may change the meeting sends for it (an invitation speaks for the organizer)."""
    found = Activity.objects.restrict(actor, "change").filter(pk=pk, kind=ActivityKind.MEETING).first()
    if found is None:
        raise NotFound(f"No meeting with id {pk}.")
    return found


def _attendees(actor, meeting: Activity) -> list[Contact]:
    ids = meeting.participants.values("pk")
    rows = Contact.objects.restrict(actor, "view").filter(pk__in=ids).exclude(email="").order_by("pk")
    return list(rows)


def _calendar(meeting: Activity, attendees, organizer, method: str, sequence: int) -> bytes:
    cal = ics.new_calendar(method=method)
    # The invitation's own SEQUENCE (not the record's version) and DTSTAMP (when this message was made).
    status = "CANCELLED" if method == CANCEL else "CONFIRMED"
    ev = ics.meeting_event(meeting, status=status, sequence=sequence, stamp=timezone.now())
    name = organizer.get_full_name() or organizer.get_username()
    ev.add("organizer", icalendar.vCalAddress.new(organizer.email or settings.DEFAULT_FROM_EMAIL, cn=name))
    for c in attendees:
        person = f"{c.first_name} {c.last_name}".strip() or None
        ev.add(
            "attendee",
            icalendar.vCalAddress.new(c.email, cn=person, role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp=True),
        )
    cal.add_component(ev)
    return cal.to_ical()


@transaction.atomic
def send_invitation(meeting_id: int, *, actor, cancel: bool = False) -> OutgoingEmail:
    """Queue the invitation (or cancellation) of a meeting to its contacts with an address."""
    meeting = _meeting(actor, meeting_id)
    attendees = _attendees(actor, meeting)
    if not attendees:
        raise ValidationFailed({"participant_ids": "The meeting has no contact with an email address to invite."})
    # Locks the meeting's invitations: two sends at once would otherwise carry the same SEQUENCE.
    sent = list(MeetingInvitation.objects.select_for_update().filter(activity_id=meeting.pk).order_by("-sequence"))
    if cancel and not sent:
        raise ValidationFailed({"cancel": "No invitation was sent for this meeting: there is nothing to cancel."})
    sequence = sent[0].sequence + 1 if sent else 0
    method = CANCEL if cancel else REQUEST
    body = _calendar(meeting, attendees, actor, method, sequence)
    attachment = SimpleUploadedFile("invite.ics", body, content_type=f"text/calendar; method={method}")
    subject = ("Cancelled: " if cancel else "Invitation: " if not sent else "Updated invitation: ") + (
        meeting.subject or "Meeting"
    )
    when = timezone.localtime(meeting.occurred_at).strftime("%Y-%m-%d %H:%M %Z")
    text = f"{'Cancelled' if cancel else 'When'}: {when}"
    email = outbox.queue_email(
        actor=actor,
        to=[c.email for c in attendees],
        subject=subject,
        body_html=f"<p>{escape(text)}</p>" + (f"<p>{escape(meeting.body)}</p>" if meeting.body else ""),
        links=[{"type": "contact", "id": c.pk} for c in attendees],
        attachments=[attachment],
    )
    MeetingInvitation.objects.create(activity_id=meeting.pk, sequence=sequence, method=method, email=email)
    return email
