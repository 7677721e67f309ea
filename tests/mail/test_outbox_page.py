"""The web outbox (/mail/outbox/): who sees which messages, their status and the server's reply,
retrying one, and an admin's "Send what is waiting" once a mail server is configured."""

import pytest

from crm.automation.notifications import notify
from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.records.models import Activity

pytestmark = pytest.mark.django_db


def queue(commit, actor, subject):
    with commit():
        return outbox.queue_email(actor=actor, to=["ann@example.com"], subject=subject, body_html="<p>Hi</p>")


def test_each_user_sees_their_messages_and_admins_everyones(web, commit, rep_a, rep_b, admin_user):
    queue(commit, rep_a, "From A")
    queue(commit, rep_b, "From B")
    page_a = web(rep_a).get("/mail/outbox/").content.decode()
    assert "From A" in page_a and "From B" not in page_a
    assert "Send what is waiting" not in page_a
    page_admin = web(admin_user).get("/mail/outbox/").content.decode()
    assert "From A" in page_admin and "From B" in page_admin
    assert "2 messages are waiting" in page_admin and "Set <code>EMAIL_URL</code>" in page_admin
    assert 'href="/mail/outbox/"' in page_a  # the menu entry
    assert web(None).get("/mail/outbox/").status_code == 302  # to the sign-in page


def test_a_failed_message_shows_the_reply_and_is_retried_by_its_sender(web, commit, rep_a, rep_b, smtp_server):
    smtp_server.replies.append("550 5.1.1 No such user here")
    email = queue(commit, rep_a, "Bounced")
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    page = web(rep_a).get("/mail/outbox/", {"status": "failed"}).content.decode()
    assert "Bounced" in page and "550 5.1.1 No such user here" in page and "Retry" in page
    assert web(rep_b).post(f"/mail/outbox/{email.pk}/retry/").status_code == 404
    with commit():
        r = web(rep_a).post(f"/mail/outbox/{email.pk}/retry/")
    assert r.status_code == 302
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and len(smtp_server.messages) == 1
    r = web(rep_a).post(f"/mail/outbox/{email.pk}/retry/", follow=True)  # sent: nothing to retry
    assert "Only a failed, unsent or unknown message can be retried" in r.content.decode()


def test_an_admin_sends_what_is_waiting_once_a_server_is_configured(
    web, commit, settings, rep_a, admin_user, smtp_server
):
    settings.EMAIL_URL = ""
    queue(commit, rep_a, "Waited")
    assert web(rep_a).post("/mail/outbox/send-waiting/").status_code == 403
    settings.EMAIL_URL = smtp_server.url
    page = web(admin_user).get("/mail/outbox/").content.decode()
    assert "Send what is waiting" in page
    with commit():
        r = web(admin_user).post("/mail/outbox/send-waiting/", follow=True)
    assert "1 waiting message queued for sending." in r.content.decode()
    assert OutgoingEmail.objects.get().status == EmailStatus.SENT
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ann@example.com"]]


def test_notification_mail_goes_through_the_outbox_and_onto_no_timeline(commit, rep_a, smtp_server):
    with commit():
        notify(rep_a, "assignment", "Deal X is yours", "Look at it", email=True)
    email = OutgoingEmail.objects.get()
    assert email.notification and email.sender_id is None and email.status == EmailStatus.SENT
    assert email.to == [rep_a.email] and email.body_text == "Look at it"
    [received] = smtp_server.messages
    assert received.rcpt_tos == [rep_a.email]
    assert email.activity_id is None and not Activity.objects.exists()
