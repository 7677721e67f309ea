"""The states a crashed send leaves (crm/mail/sending.py), in-process and fast; the real crash, with a
worker killed by SIGKILL, is tests/mail/test_send_crash.py. A message left "sending" by an attempt that
died is marked "unknown" by the job's next run and not sent; the outbox says so and offers "Send again";
a slow worker another one gave up on still writes what the server answered."""

import pytest

from crm.automation import jobs
from crm.mail import outbox, sending
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.mail.smtp import parse

pytestmark = pytest.mark.django_db


def crashed_mid_send(commit, rep, settings, smtp_server) -> OutgoingEmail:
    """A message whose attempt marked it "sending" and died (what a killed worker leaves)."""
    settings.EMAIL_URL = ""
    with commit():
        email = outbox.queue_email(actor=rep, to=["carl@clientco.com"], subject="Offer", body_html="<p>Hi</p>")
    settings.EMAIL_URL = smtp_server.url
    OutgoingEmail.objects.filter(pk=email.pk).update(status=EmailStatus.QUEUED)
    email.refresh_from_db()
    assert sending._claim(email) is not None  # the dead attempt's claim, committed before it connected
    return email


def test_a_message_left_sending_is_marked_unknown_not_sent_again(commit, rep_a, settings, smtp_server, web):
    email = crashed_mid_send(commit, rep_a, settings, smtp_server)
    job = jobs.enqueue("mail.send", {"email_id": email.pk})
    assert jobs.run(job.pk) == "done"
    email.refresh_from_db()
    assert email.status == EmailStatus.UNKNOWN and smtp_server.messages == []
    assert "may have accepted it" in email.last_error and email.message_id

    page = web(rep_a).get("/mail/outbox/").content.decode()
    assert "Unknown: check whether it arrived" in page and "Send again" in page and "may have accepted it" in page
    with commit():
        assert web(rep_a).post(f"/mail/outbox/{email.pk}/retry/").status_code == 302
    sent = OutgoingEmail.objects.get(pk=email.pk)
    assert sent.status == EmailStatus.SENT and len(smtp_server.messages) == 1
    assert sent.message_id == email.message_id  # the same Message-ID: a client that has the first copy dedupes


def test_a_slow_attempt_given_up_on_still_records_the_servers_answer(commit, rep_a, settings, smtp_server):
    email = crashed_mid_send(commit, rep_a, settings, smtp_server)
    token = email.send_token
    sending._unknown(email)  # another worker took the job over and gave up on this attempt
    sending.deliver(email, parse(smtp_server.url))  # ...but the slow one was alive and the server took it
    assert sending._outcome(email, token, status=EmailStatus.SENT, last_error="")
    assert OutgoingEmail.objects.get(pk=email.pk).status == EmailStatus.SENT
    # A stale attempt (another token) writes nothing.
    assert not sending._outcome(email, "0" * 32, status=EmailStatus.FAILED)
    assert OutgoingEmail.objects.get(pk=email.pk).status == EmailStatus.SENT


def test_only_failed_unsent_or_unknown_messages_can_be_sent_again(commit, rep_a, api, smtp_server):
    with commit():
        email = outbox.queue_email(actor=rep_a, to=["carl@clientco.com"], subject="Offer", body_html="<p>Hi</p>")
    r = api(rep_a).post(f"/emails/{email.pk}/retry", {})
    assert r.status_code == 400 and "failed, unsent or unknown" in r.json()["error"]["message"]
