"""The outbox against a real SMTP server (aiosmtpd on loopback): sent, refused, retried, kept unsent."""

import datetime as dt
from email import message_from_bytes

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.automation import jobs
from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.records.models import Activity
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def queue(commit, actor, **kw):
    with commit():
        return outbox.queue_email(
            actor=actor, **{"to": ["ann@example.com"], "subject": "Hello", "body_html": "<p>Hi</p>", **kw}
        )


def later(minutes=60):
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_a_message_is_sent_and_lands_on_the_timelines(commit, smtp_server, rep_a):
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    lead = LeadFactory(email="lee@example.com", owner=rep_a)
    about = ContactFactory(owner=rep_a)
    email = queue(
        commit,
        rep_a,
        cc=["Lee@Example.com"],
        links=[{"type": "contact", "id": about.pk}],
        body_html='<p>Hi <a href="javascript:x()">there</a></p><script>x()</script>',
    )
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT, email.last_error
    assert email.attempts == 1 and email.sent_at and email.message_id
    [received] = smtp_server.messages
    assert set(received.rcpt_tos) == {"ann@example.com", "lee@example.com"}
    parsed = message_from_bytes(received.content)
    assert parsed["Message-ID"] == email.message_id and parsed["Subject"] == "Hello"
    assert b"script" not in received.content and b"javascript" not in received.content
    activity = Activity.objects.get(pk=email.activity_id)
    assert activity.kind == "email" and activity.owner_id == rep_a.pk and activity.direction == "outbound"
    assert {lk.key for lk in activity.links.all()} == {f"contact:{ann.pk}", f"lead:{lead.pk}", f"contact:{about.pk}"}


def test_a_permanent_refusal_fails_with_the_reply_and_can_be_retried(commit, smtp_server, rep_a, api):
    smtp_server.replies.append("550 5.7.1 Relaying denied")
    email = queue(commit, rep_a)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.last_error == "550 5.7.1 Relaying denied" and email.attempts == 1
    r = api(rep_a).post(f"/emails/{email.pk}/retry")
    assert r.status_code == 200 and r.json()["status"] == "queued"
    jobs.run_due(now=later())
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2 and email.last_error == ""
    assert len(smtp_server.messages) == 1


def test_a_temporary_failure_is_retried_by_the_worker(commit, smtp_server, rep_a, settings):
    smtp_server.replies.append("451 4.3.0 Try again later")
    email = queue(commit, rep_a)
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED and email.last_error == "451 4.3.0 Try again later"
    assert jobs.run_due() == 0  # backing off: not due yet
    settings.AUTOMATION_RETRY_BASE_SECONDS = 0
    jobs.Job.objects.update(run_at=timezone.now())  # the backoff has passed
    call_command("worker", once=True)  # what `crm worker` does each round: due jobs run
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2
    assert len(smtp_server.messages) == 1


def test_temporary_failures_end_as_failed_when_the_attempts_run_out(commit, smtp_server, rep_a):
    smtp_server.replies.extend(["421 4.7.0 Busy"] * outbox.MAX_ATTEMPTS)
    email = queue(commit, rep_a)
    for step in range(1, outbox.MAX_ATTEMPTS):
        jobs.run_due(now=later(60 * 24 * step))
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.attempts == outbox.MAX_ATTEMPTS
    assert email.last_error == "421 4.7.0 Busy"


def test_without_a_mail_server_mail_waits_until_send_waiting(commit, rep_a, admin_user, api, settings, smtp_server):
    settings.EMAIL_URL = ""  # a fresh `make run`
    r = api(rep_a).post("/emails", {"to": ["ann@example.com"], "subject": "Kept", "body_html": "<p>Hi</p>"})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "not_sent" and r.json()["last_error"] == "not sent: no mail server configured"
    assert api(admin_user).post("/emails/send-waiting").status_code == 400  # still no server
    assert api(rep_a).post("/emails/send-waiting").status_code == 403
    settings.EMAIL_URL = smtp_server.url  # the server is configured now
    with commit():
        r = api(admin_user).post("/emails/send-waiting")
    assert r.status_code == 200 and r.json() == {"queued": 1}
    assert OutgoingEmail.objects.get().status == EmailStatus.SENT
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ann@example.com"]]


def test_bad_recipients_and_too_many_are_refused(api, rep_a, settings):
    settings.MAIL_MAX_RECIPIENTS = 3
    r = api(rep_a).post("/emails", {"to": ["not an address"], "subject": "x"})
    assert r.status_code == 422 and "to.0" in r.json()["error"]["fields"]
    r = api(rep_a).post("/emails", {"to": [f"a{i}@example.com" for i in range(4)], "subject": "x"})
    assert r.status_code == 422 and "At most 3 recipients" in r.json()["error"]["fields"]["to"]
    assert not OutgoingEmail.objects.exists()


def test_who_sees_which_messages(commit, api, rep_a, rep_b, admin_user):
    mine = ContactFactory(owner=rep_a)
    email = queue(commit, rep_a, links=[{"type": "contact", "id": mine.pk}])
    other = queue(commit, rep_a)
    listed = api(rep_a).get("/emails", {"record_type": "contact", "record_id": mine.pk}).json()["items"]
    assert [e["id"] for e in listed] == [email.pk]
    assert [e["id"] for e in api(rep_a).get("/emails").json()["items"]] == [other.pk, email.pk]
    assert api(rep_b).get(f"/emails/{email.pk}").status_code == 404
    assert api(rep_b).get("/emails").json()["items"] == []
    assert api(rep_b).post(f"/emails/{email.pk}/retry").status_code == 404
    assert api(admin_user).get(f"/emails/{email.pk}").json()["links"] == [{"type": "contact", "id": mine.pk}]
    r = api(rep_b).post(
        "/emails", {"to": ["x@example.com"], "subject": "x", "links": [{"type": "contact", "id": mine.pk}]}
    )
    assert r.status_code == 422 and "links.0.id" in r.json()["error"]["fields"]


def test_a_template_fills_the_message(commit, api, rep_a):
    ann = ContactFactory(first_name="Ann", owner=rep_a)
    pk = (
        api(rep_a)
        .post(
            "/email-templates",
            {
                "name": "t",
                "record_type": "contact",
                "subject": "For {{ contact.first_name }}",
                "body_html": "<p>Dear {{ contact.first_name }}</p>",
            },
        )
        .json()["id"]
    )
    r = api(rep_a).post(
        "/emails", {"to": ["ann@example.com"], "template_id": pk, "links": [{"type": "contact", "id": ann.pk}]}
    )
    assert r.status_code == 201, r.content
    assert r.json()["subject"] == "For Ann" and r.json()["body_text"] == "Dear Ann"
