"""A meeting's page (/mail/meetings/<pk>/): details and attendees (contacts and users) saved through the
meeting services, "Send invitation" / "Send update" / "Cancel meeting" reaching a real SMTP server
(aiosmtpd), each attendee's answer as a calendar reply set it (through the mailbox's own store), bad
input as form errors with nothing saved, and who may see or change the meeting."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.mail.models import MeetingDetails, MeetingInvitation
from crm.mailbox import sync
from crm.mailbox.models import Mailbox
from tests.factories import ContactFactory, UserFactory
from tests.mail.test_invitations import invite_part, meeting
from tests.mailbox.calendar_messages import outlook_reply

pytestmark = pytest.mark.django_db


def url(m) -> str:
    return f"/mail/meetings/{m.pk}/"


def details(**extra) -> dict:
    return {"action": "save", "location": "Room 4", "video_url": "https://meet.example.com/abc",
            "time_zone": "Europe/Paris", **extra}  # fmt: skip


def test_details_attendees_invitation_answers_update_and_cancel(web, rep_a, commit, smtp_server):
    ann = ContactFactory(email="ann@clientco.com", first_name="Ann", last_name="Lee", owner=rep_a)
    carl = ContactFactory(email="carl@clientco.com", first_name="Carl", last_name="Berg", owner=rep_a)
    bob = UserFactory(username="bob", email="bob@annsales.com", first_name="Bob", last_name="Stone")
    m = meeting(rep_a, participant_ids=[ann.pk])
    client = web(rep_a)
    page = client.get(url(m)).content.decode()
    assert "No invitation was sent yet." in page and 'value="invite">Send invitation' in page
    r = client.post(url(m), details(participant_ids=[ann.pk, carl.pk], user_ids=[bob.pk]))
    assert r.status_code == 302, r.content.decode()[:3000]
    saved = MeetingDetails.objects.get(activity_id=m.pk)
    assert (saved.location, saved.video_url, saved.time_zone) == (
        "Room 4",
        "https://meet.example.com/abc",
        "Europe/Paris",
    )
    assert list(saved.users.all()) == [bob] and set(m.participants.all()) == {ann, carl}
    assert not smtp_server.messages  # saving tells nobody

    with commit():
        r = client.post(url(m), {"action": "invite"}, follow=True)
    assert "The invitation is queued to ann@clientco.com, carl@clientco.com, bob@annsales.com" in r.content.decode()
    [sent] = smtp_server.messages
    _, cal, ev = invite_part(sent.content)
    assert str(cal["method"]) == "REQUEST" and str(ev["location"]) == "Room 4"
    assert ev["dtstart"].params["TZID"] == "Europe/Paris"

    # Carl accepts from Outlook: the reply filed by a mailbox sets his answer, shown on the page.
    box = Mailbox.objects.create(name="Inbox", owner=rep_a, host="imap.example.com", username="a", password="x")
    raw = outlook_reply(uid=str(ev["uid"]), sender="carl@clientco.com", name="Carl Berg", partstat="ACCEPTED",
                        stamp=timezone.now(), msgid="<r1@clientco.com>")  # fmt: skip
    sync.store(box, "INBOX", 1, raw)
    page = client.get(url(m)).content.decode()
    assert 'data-attendee="carl@clientco.com"' in page
    row = page.split('data-attendee="carl@clientco.com"')[1].split("</tr>")[0]
    assert "Accepted" in row
    ann_row = page.split('data-attendee="ann@clientco.com"')[1].split("</tr>")[0]
    assert "No answer yet" in ann_row
    assert 'value="invite">Send update' in page and 'value="cancel">Cancel meeting' in page

    with commit():
        assert client.post(url(m), details(location="Room 5", participant_ids=[ann.pk, carl.pk],
                                           user_ids=[bob.pk], action="update")).status_code == 302  # fmt: skip
    _, _, updated = invite_part(smtp_server.messages[1].content)
    assert int(updated["sequence"]) == 1 and str(updated["location"]) == "Room 5"
    carl_line = [a for a in updated["attendee"] if "carl" in str(a)][0]
    assert carl_line.params["PARTSTAT"] == "ACCEPTED"  # the answer received is repeated

    with commit():
        assert client.post(url(m), {"action": "cancel"}).status_code == 302
    _, cancelled, _ = invite_part(smtp_server.messages[2].content)
    assert str(cancelled["method"]) == "CANCEL"
    assert "Cancellation sent" in client.get(url(m)).content.decode()


def test_bad_input_is_shown_on_the_form_and_nothing_is_saved(web, rep_a, smtp_server):
    ann = ContactFactory(email="ann@clientco.com", owner=rep_a)
    m = meeting(rep_a, participant_ids=[ann.pk])
    client = web(rep_a)
    r = client.post(
        url(m), details(video_url="javascript:alert(1)", time_zone="Mars/Olympus", participant_ids=[ann.pk])
    )
    assert r.status_code == 422
    body = r.content.decode()
    assert "A web address starting with https://." in body and "is not a time zone name" in body
    assert 'value="javascript:alert(1)"' in body  # kept as typed (escaped), for correcting
    assert client.post(url(m), details(user_ids=["x"], participant_ids=[ann.pk])).status_code == 422
    assert client.post(url(m), details(user_ids=[999999], participant_ids=[ann.pk])).status_code == 422
    assert client.post(url(m), {"action": "bogus"}).status_code == 422
    # An update with no invitation out: refused, and the details with it.
    r = client.post(url(m), details(action="update", participant_ids=[ann.pk]))
    assert r.status_code == 422 and "No invitation is out for this meeting" in r.content.decode()
    r = client.post(url(m), {"action": "cancel"})
    assert r.status_code == 422 and "nothing to cancel" in r.content.decode()
    assert not MeetingDetails.objects.exists() and not MeetingInvitation.objects.exists()

    lonely = meeting(rep_a)  # nobody with an address to invite
    r = client.post(url(lonely), {"action": "invite"})
    assert r.status_code == 422 and "no contact with an email address" in r.content.decode()
    assert not smtp_server.messages

    # A contact change and a refused detail are one save: neither is kept.
    carl = ContactFactory(email="carl@clientco.com", owner=rep_a)
    r = client.post(url(m), details(video_url="ftp://x", participant_ids=[ann.pk, carl.pk]))
    assert r.status_code == 422 and list(m.participants.all()) == [ann]


def test_read_only_users_see_no_buttons_and_get_403_others_404(web, rep_a, rep_b, readonly):
    ann = ContactFactory(email="ann@clientco.com", owner=rep_a)
    m = meeting(rep_a, participant_ids=[ann.pk])
    viewer = web(readonly)
    page = viewer.get(url(m))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Send invitation" not in body and 'name="action"' not in body and "Room" not in body
    assert viewer.post(url(m), {"action": "invite"}).status_code == 403
    assert viewer.post(url(m), details()).status_code == 403
    assert web(rep_b).get(url(m)).status_code == 404
    assert web(rep_b).post(url(m), {"action": "invite"}).status_code == 404
    task_like = meeting(rep_a, kind="call")
    assert web(rep_a).get(url(task_like)).status_code == 404  # not a meeting
    assert not MeetingInvitation.objects.exists()


def test_people_completion_offers_visible_contacts_and_active_users(web, rep_a, rep_b):
    ContactFactory(email="anna@clientco.com", first_name="Anna", last_name="Mine", owner=rep_a)
    ContactFactory(email="annika@other.com", first_name="Annika", last_name="Theirs", owner=rep_b)
    UserFactory(username="annabel", email="annabel@annsales.com")
    UserFactory(username="anneliese", email="anneliese@annsales.com", is_active=False)
    body = web(rep_a).get("/mail/meetings/people/", {"q": "ann"}).content.decode()
    assert "anna@clientco.com" in body and "annabel@annsales.com" in body
    assert "annika@other.com" not in body and "anneliese" not in body
    assert 'name="participant_ids"' in body and 'name="user_ids"' in body
    assert "Nobody matches" in web(rep_a).get("/mail/meetings/people/", {"q": "zzz"}).content.decode()


def test_the_calendar_links_a_meeting_to_its_page(web, rep_a):
    m = meeting(rep_a, occurred_at=timezone.now() + dt.timedelta(hours=1))
    page = web(rep_a).get("/calendar/").content.decode()
    assert f'href="/mail/meetings/{m.pk}/"' in page
