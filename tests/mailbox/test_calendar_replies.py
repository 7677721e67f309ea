"""Calendar replies received by IMAP (a real Dovecot, filled by APPEND with Outlook- and Google-shaped
METHOD:REPLY messages) set the attendee's answer on the meeting; a reply for an unknown meeting, from
someone who is not that attendee, or older than the answer stored changes nothing and is logged."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from crm.mail import invitations, meetings
from crm.mail.models import MeetingAttendee
from crm.mailbox import sync
from crm.records.services import activities
from crm.web import ics
from tests.factories import ContactFactory, UserFactory
from tests.mailbox import calendar_messages as cm
from tests.mailbox.test_sync import connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(rep_a):
    """rep_a's meeting with the contact Carl and the user Bob, its invitation sent (no SMTP: it waits)."""
    carl = ContactFactory(first_name="Carl", email="carl@clientco.com", owner=rep_a)
    dora = ContactFactory(first_name="Dora", email="dora@clientco.com", owner=rep_a)
    bob = UserFactory(username="bob", email="bob@gmail.example")
    at = timezone.now() + dt.timedelta(days=3)
    data = {"kind": "meeting", "subject": "Demo", "occurred_at": at, "participant_ids": [carl.pk]}
    m = activities.activity_create(actor=rep_a, data=data).obj
    meetings.meeting_set_details(m.pk, actor=rep_a, data={"user_ids": [bob.pk]})
    invitations.send_invitation(m.pk, actor=rep_a)
    return {"meeting": m, "carl": carl, "dora": dora, "bob": bob, "uid": ics.uid_of("activity", m.pk)}


def status(meeting) -> dict[str, str]:
    return dict(MeetingAttendee.objects.filter(activity=meeting).values_list("email", "status"))


def test_outlook_and_google_replies_set_the_answers(dovecot, fill, rep_a, invited, api):
    now = timezone.now().replace(microsecond=0)
    uid = invited["uid"]
    fill(
        [
            cm.outlook_reply(
                uid=uid,
                sender="carl@clientco.com",
                name="Carl",
                partstat="ACCEPTED",
                stamp=now,
                msgid="<r1@clientco.com>",
            ),
            cm.google_reply(
                uid=uid, sender="bob@gmail.example", partstat="TENTATIVE", stamp=now, msgid="<r2@google.example>"
            ),
        ]  # fmt: skip
    )
    box = connect(dovecot, rep_a)
    sync.sync_mailbox(box.pk)
    assert status(invited["meeting"]) == {"carl@clientco.com": "ACCEPTED", "bob@gmail.example": "TENTATIVE"}
    answers = api(rep_a).get(f"/meetings/{invited['meeting'].pk}/details").json()["attendees"]
    assert {(a["email"], a["status"]) for a in answers} == {
        ("carl@clientco.com", "ACCEPTED"),
        ("bob@gmail.example", "TENTATIVE"),
    }

    # Bob changes his mind; a stale copy of Carl's earlier answer (older DTSTAMP) arrives later.
    fill(
        [
            cm.google_reply(
                uid=uid,
                sender="bob@gmail.example",
                partstat="DECLINED",
                stamp=now + dt.timedelta(minutes=5),
                msgid="<r3@google.example>",
            ),
            cm.outlook_reply(
                uid=uid,
                sender="carl@clientco.com",
                name="Carl",
                partstat="DECLINED",
                stamp=now - dt.timedelta(hours=1),
                msgid="<r0@clientco.com>",
            ),
        ]  # fmt: skip
    )
    sync.sync_mailbox(box.pk)
    assert status(invited["meeting"]) == {"carl@clientco.com": "ACCEPTED", "bob@gmail.example": "DECLINED"}
    # The invitation update repeats the answers received (no "please answer" again for Carl).
    email = invitations.send_invitation(invited["meeting"].pk, actor=rep_a)
    text = email.attachments.get().file.read().decode()
    assert "PARTSTAT=ACCEPTED" in text.replace("\r\n ", "") and "PARTSTAT=DECLINED" in text.replace("\r\n ", "")


def test_unknown_meetings_and_non_attendees_are_ignored_and_logged(dovecot, fill, rep_a, invited, caplog):
    now = timezone.now().replace(microsecond=0)
    uid = invited["uid"]
    other_host = uid.split("@")[0] + "@other-crm.example"
    fill(
        [
            # Dora is a contact but was not invited.
            cm.outlook_reply(
                uid=uid,
                sender="dora@clientco.com",
                name="Dora",
                partstat="ACCEPTED",
                stamp=now,
                msgid="<x1@clientco.com>",
            ),
            # Someone else answering in Carl's name.
            cm.google_reply(
                uid=uid,
                sender="eve@evil.example",
                attendee="carl@clientco.com",
                partstat="DECLINED",
                stamp=now,
                msgid="<x2@evil.example>",
            ),
            # A meeting of another CRM, and one that does not exist.
            cm.google_reply(
                uid=other_host, sender="carl@clientco.com", partstat="DECLINED", stamp=now, msgid="<x3@google.example>"
            ),
            cm.google_reply(
                uid="activity-999999@testserver",
                sender="carl@clientco.com",
                partstat="DECLINED",
                stamp=now,
                msgid="<x4@google.example>",
            ),
        ]  # fmt: skip
    )
    box = connect(dovecot, rep_a)
    with caplog.at_level(logging.INFO, logger="crm.mailbox"):
        result = sync.sync_mailbox(box.pk)
    assert result["errors"] == []
    assert status(invited["meeting"]) == {"carl@clientco.com": "NEEDS-ACTION", "bob@gmail.example": "NEEDS-ACTION"}
    logged = caplog.text
    assert "who is not an attendee" in logged and "from eve@evil.example, ignored" in logged
    assert logged.count("unknown meeting") == 2


def test_a_malformed_calendar_part_is_skipped_not_a_crash(dovecot, fill, rep_a, invited):
    raw = cm.outlook_reply(uid=invited["uid"], sender="carl@clientco.com", name="Carl", partstat="ACCEPTED",
                           stamp=timezone.now(), msgid="<bad@clientco.com>")  # fmt: skip
    fill([raw.replace(b"BEGIN:VEVENT", b"BEGIN:VEVENT\r\nDTSTART:not-a-date").replace(b"END:VCALENDAR", b"")])
    box = connect(dovecot, rep_a)
    assert sync.sync_mailbox(box.pk)["errors"] == []
    assert status(invited["meeting"])["carl@clientco.com"] == "NEEDS-ACTION"
