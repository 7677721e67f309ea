"""A meeting's details (/api/v1/meetings/{pk}/details): users invited beside contacts, location and video
link, the organizer's time zone carried as TZID + VTIMEZONE in the invitation and the feed, an update
sent as a new REQUEST with a higher SEQUENCE; the invitations reach a real SMTP server (aiosmtpd)."""

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.utils import timezone

from crm.access.models import Profile
from crm.audit.models import ObjectChange
from crm.mail.models import MeetingAttendee, MeetingDetails, MeetingInvitation
from crm.web import feeds
from tests.factories import ContactFactory, UserFactory
from tests.mail.test_invitations import invite_part, meeting

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def put(api, user, pk, data):
    return api(user)._call("put", f"/meetings/{pk}/details", data)


def paris_meeting(rep_a, ann):
    day = (timezone.now() + dt.timedelta(days=3)).date()
    at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=PARIS)
    return meeting(rep_a, participant_ids=[ann.pk], occurred_at=at, duration_minutes=45)


def test_users_location_video_and_the_organizers_zone_reach_the_invitation(commit, smtp_server, rep_a, api):
    Profile.objects.filter(user=rep_a).update(time_zone="Europe/Paris")
    bob = UserFactory(username="bob", email="Bob@Example.com", first_name="Bob", last_name="Stone")
    ann = ContactFactory(email="ann@example.com", first_name="Ann", last_name="Lee", owner=rep_a)
    m = paris_meeting(rep_a, ann)
    r = put(api, rep_a, m.pk, {"location": "Room 4, Paris", "video_url": "https://meet.example.com/abc",
                              "user_ids": [bob.pk, rep_a.pk]})  # fmt: skip
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["time_zone"] == "Europe/Paris"  # the organizer's, stored
    assert body["start"].startswith(f"{m.occurred_at.astimezone(PARIS).date()}T10:00:00+0")
    assert body["end"][11:16] == "10:45" and body["user_ids"] == sorted([bob.pk, rep_a.pk])
    assert ObjectChange.objects.filter(object_type="meeting_details", action="create").count() == 1
    with commit():
        assert api(rep_a).post(f"/meetings/{m.pk}/invitation", {}).status_code == 201
    [received] = smtp_server.messages
    assert sorted(received.rcpt_tos) == ["ann@example.com", "bob@example.com"]  # the organizer is not invited
    _, cal, ev = invite_part(received.content)
    assert ev["dtstart"].params["TZID"] == "Europe/Paris" and ev["dtstart"].to_ical().endswith(b"T100000")
    assert ev.decoded("dtstart") == m.occurred_at and ev.decoded("dtend") - ev.decoded("dtstart") == dt.timedelta(
        minutes=45
    )
    [vtz] = cal.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == "Europe/Paris"
    assert str(ev["location"]) == "Room 4, Paris" and "Join: https://meet.example.com/abc" in str(ev["description"])
    assert str(ev["conference"]) == "https://meet.example.com/abc"
    people = {str(a).lower().removeprefix("mailto:"): a.params for a in ev["attendee"]}
    assert set(people) == {"ann@example.com", "bob@example.com"} and people["bob@example.com"]["CN"] == "Bob Stone"
    assert "Where: Room 4, Paris" in received.content.decode()
    answers = api(rep_a).get(f"/meetings/{m.pk}/details").json()["attendees"]
    assert [(a["email"], a["status"], a["user_id"]) for a in answers] == [
        ("ann@example.com", "NEEDS-ACTION", None),
        ("bob@example.com", "NEEDS-ACTION", bob.pk),
    ]

    # Moved to another room, and the attendees told: a REQUEST with SEQUENCE 1, same UID.
    with commit():
        r = put(api, rep_a, m.pk, {"location": "Room 7", "send_update": True})
    assert r.status_code == 200 and r.json()["invitation_id"] is not None
    part, cal, updated = invite_part(smtp_server.messages[1].content)
    assert str(cal["method"]) == "REQUEST" and int(updated["sequence"]) == 1 and updated["uid"] == ev["uid"]
    assert str(updated["location"]) == "Room 7" and updated["dtstart"].params["TZID"] == "Europe/Paris"
    assert [i.method for i in MeetingInvitation.objects.order_by("sequence")] == ["REQUEST", "REQUEST"]


def test_without_a_zone_the_invitation_stays_in_utc(rep_a, api):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = paris_meeting(rep_a, ann)
    assert put(api, rep_a, m.pk, {"time_zone": "UTC"}).status_code == 200
    assert api(rep_a).post(f"/meetings/{m.pk}/invitation", {}).status_code == 201
    email = MeetingInvitation.objects.get().email
    raw = email.attachments.get().file.read()
    cal = icalendar.Calendar.from_ical(raw)
    [ev] = cal.walk("VEVENT")
    assert ev["dtstart"].to_ical().endswith(b"Z") and not cal.walk("VTIMEZONE")


def test_the_feed_carries_the_meetings_zone_and_location(web, rep_a):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = paris_meeting(rep_a, ann)
    MeetingDetails.objects.create(activity=m, time_zone="Europe/Paris", location="Room 4")
    plain = meeting(rep_a, subject="Plain")
    cal = icalendar.Calendar.from_ical(feeds.feed_ics(rep_a, "http://testserver"))
    got = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    paris, utc = got[m.subject], got[plain.subject]
    assert paris["dtstart"].params["TZID"] == "Europe/Paris" and str(paris["location"]) == "Room 4"
    assert paris.decoded("dtstart") == m.occurred_at
    assert utc["dtstart"].to_ical().endswith(b"Z")
    assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_bad_details_are_refused_and_nothing_is_written(rep_a, rep_b, api):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = paris_meeting(rep_a, ann)
    cases = [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "Europe"}, "time_zone"),  # a directory of the zone database, not a zone
        ({"video_url": "javascript:alert(1)"}, "video_url"),
        ({"user_ids": [999999]}, "user_ids"),
        ({"send_update": True}, "send_update"),  # no invitation out yet
    ]
    for data, field in cases:
        r = put(api, rep_a, m.pk, data)
        assert r.status_code == 422 and field in r.text, (data, r.content)
    assert put(api, rep_b, m.pk, {"location": "x"}).status_code == 404  # not rep_b's meeting
    assert api(rep_b).get(f"/meetings/{m.pk}/details").status_code == 404
    assert put(api, rep_a, 999999, {"location": "x"}).status_code == 404
    assert not MeetingDetails.objects.exists() and not MeetingAttendee.objects.exists()


def test_a_cancelled_meeting_sends_no_update(rep_a, api):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    m = paris_meeting(rep_a, ann)
    api(rep_a).post(f"/meetings/{m.pk}/invitation", {})
    api(rep_a).post(f"/meetings/{m.pk}/invitation", {"cancel": True})
    r = put(api, rep_a, m.pk, {"location": "Room 9", "send_update": True})
    assert r.status_code == 422 and "send_update" in r.text
    assert not MeetingDetails.objects.filter(location="Room 9").exists()  # the whole request rolled back
