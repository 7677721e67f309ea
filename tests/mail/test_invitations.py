"""Meeting invitations: a METHOD:REQUEST .ics to the meeting's contacts through the outbox, delivered to a
real SMTP server (aiosmtpd) and parsed back with icalendar; an update and a cancellation carry a higher
SEQUENCE and the same UID; bad requests are 422/404, never a half-sent batch."""

import datetime as dt
from email import message_from_bytes

import icalendar
import pytest
from django.utils import timezone

from crm.mail.models import EmailStatus, MeetingInvitation, OutgoingEmail
from crm.records.services import activities
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def meeting(actor, **data):
    at = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    data = {"kind": "meeting", "subject": "Demo; pricing, Q3", "occurred_at": at, "duration_minutes": 60, **data}
    return activities.activity_create(actor=actor, data=data).obj


def invite_part(raw: bytes):
    """The text/calendar part of a received message and its parsed event."""
    parsed = message_from_bytes(raw)
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [event] = cal.walk("VEVENT")
    return part, cal, event


def test_invite_update_and_cancel_reach_the_contacts(commit, smtp_server, rep_a, api):
    ann = ContactFactory(email="ann@example.com", first_name="Ann", last_name="Lee", owner=rep_a)
    no_address = ContactFactory(email="", owner=rep_a)
    m = meeting(rep_a, participant_ids=[ann.pk, no_address.pk])
    with commit():
        r = api(rep_a).post(f"/meetings/{m.pk}/invitation", {})
    assert r.status_code == 201, r.content
    assert r.json()["to"] == ["ann@example.com"] and r.json()["subject"] == "Invitation: Demo; pricing, Q3"
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ann@example.com"]
    part, cal, ev = invite_part(received.content)
    assert part.get_param("method") == "REQUEST" and str(cal["method"]) == "REQUEST"
    assert str(ev["summary"]) == "Demo; pricing, Q3" and int(ev["sequence"]) == 0
    assert ev.decoded("dtstart") == m.occurred_at and ev["dtstart"].to_ical().endswith(b"Z")
    assert ev.decoded("dtend") - ev.decoded("dtstart") == dt.timedelta(minutes=60)
    assert str(ev["attendee"]).lower() == "mailto:ann@example.com" and ev["attendee"].params["CN"] == "Ann Lee"
    uid = str(ev["uid"])
    assert uid.startswith(f"activity-{m.pk}@")

    # Moved an hour later: an update with the same UID and a higher SEQUENCE.
    activities.activity_update(m, actor=rep_a, data={"occurred_at": m.occurred_at + dt.timedelta(hours=1)})
    with commit():
        assert api(rep_a).post(f"/meetings/{m.pk}/invitation", {"cancel": False}).status_code == 201
    _, _, updated = invite_part(smtp_server.messages[1].content)
    assert str(updated["uid"]) == uid and int(updated["sequence"]) == 1
    assert updated.decoded("dtstart") == m.occurred_at + dt.timedelta(hours=1)

    with commit():
        r = api(rep_a).post(f"/meetings/{m.pk}/invitation", {"cancel": True})
    assert r.status_code == 201 and r.json()["subject"] == "Cancelled: Demo; pricing, Q3"
    part, cal, cancelled = invite_part(smtp_server.messages[2].content)
    assert str(cal["method"]) == "CANCEL" and part.get_param("method") == "CANCEL"
    assert str(cancelled["uid"]) == uid and int(cancelled["sequence"]) == 2 and str(cancelled["status"]) == "CANCELLED"
    assert [i.sequence for i in MeetingInvitation.objects.filter(activity_id=m.pk).order_by("pk")] == [0, 1, 2]
    assert all(e.status == EmailStatus.SENT for e in OutgoingEmail.objects.all())


def test_without_a_mail_server_the_invitation_waits_in_the_outbox(rep_a, api):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = meeting(rep_a, participant_ids=[ann.pk])
    r = api(rep_a).post(f"/meetings/{m.pk}/invitation", {})
    assert r.status_code == 201 and r.json()["status"] == "not_sent"
    assert r.json()["attachments"][0]["filename"] == "invite.ics"


def test_refusals(rep_a, rep_b, api):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    lonely = meeting(rep_a)
    r = api(rep_a).post(f"/meetings/{lonely.pk}/invitation", {})
    assert r.status_code == 422 and "participant_ids" in r.text
    m = meeting(rep_a, participant_ids=[ann.pk])
    r = api(rep_a).post(f"/meetings/{m.pk}/invitation", {"cancel": True})  # nothing sent yet
    assert r.status_code == 422 and "cancel" in r.text
    assert api(rep_b).post(f"/meetings/{m.pk}/invitation", {}).status_code == 404  # not rep_b's
    call = activities.activity_create(actor=rep_a, data={"kind": "call", "participant_ids": [ann.pk]}).obj
    assert api(rep_a).post(f"/meetings/{call.pk}/invitation", {}).status_code == 404  # not a meeting
    assert api(rep_a).post("/meetings/999999/invitation", {}).status_code == 404
    assert not OutgoingEmail.objects.exists() and not MeetingInvitation.objects.exists()


def test_the_calendar_sends_and_reports(rep_a, rep_b, web):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = meeting(rep_a, participant_ids=[ann.pk])
    lonely = meeting(rep_a, subject="Alone")
    day = timezone.localtime(m.occurred_at).date().isoformat()
    page = web(rep_a).get("/calendar/", {"view": "week", "date": day}).content.decode()
    assert f'action="/calendar/meetings/{m.pk}/invite/"' in page
    r = web(rep_a).post(f"/calendar/meetings/{m.pk}/invite/", {"next": "/calendar/"}, follow=True)
    assert "Invitation queued to ann@example.com" in r.content.decode()
    assert OutgoingEmail.objects.get().to == ["ann@example.com"]
    r = web(rep_a).post(f"/calendar/meetings/{lonely.pk}/invite/", {"next": "/calendar/"}, follow=True)
    assert "no contact with an email address" in r.content.decode()
    assert web(rep_b).post(f"/calendar/meetings/{m.pk}/invite/").status_code == 404
    assert web(rep_a).post(f"/calendar/meetings/{m.pk}/invite/", {"cancel": "1"}).status_code == 302
    assert list(MeetingInvitation.objects.order_by("pk").values_list("method", "sequence")) == [
        ("REQUEST", 0),
        ("CANCEL", 1),
    ]
