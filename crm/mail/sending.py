"""The ``mail.send`` job: one outbox message through SMTP, in the worker, with retries and backoff.

A server's permanent refusal (5xx) fails the message at once, keeping the reply; a temporary one
(4xx, a dropped or refused connection) asks the job runtime for another attempt later (backoff in
crm/automation/jobs.py) and fails the message with the last reply when the attempts are used up. A
failed message never disappears: it stays in the outbox with its reply until retried. Not atomic:
the SMTP conversation is an outside effect, so each state is committed as it happens.

No double send after a crash: before connecting, the attempt marks the message "sending" with its own
token (committed). A worker killed after the server accepted the message but before "sent" was written
leaves "sending"; the job's next attempt finds it so and marks it "unknown" instead of sending again
(the server cannot be asked whether it has a message). Its sender checks and may send it again, with
the same Message-ID (docs/email.md).

Messages queued together go out on one connection per server: a run of the job, after its own
message, runs the other due ``mail.send`` jobs through the job runtime (``_send_waiting``), on the
connections it keeps open (crm/mail/connections.py). Each of those is claimed, retried and settled as
its own job, with the same claim-before-connect rule, so a crash leaves each message as above. The
run's sent messages go on the timelines together (``timeline.batched``: every 50 and when the run ends).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import time

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db.models import F
from django.utils import timezone

from crm.automation import jobs
from crm.automation.models import Job, JobStatus
from crm.mail import accounts, attachments, connections, smtp, timeline, tracking
from crm.mail.models import EmailStatus, OutgoingEmail

log = logging.getLogger("crm.mail")
UNKNOWN = (
    "An attempt to send it stopped while talking to the mail server (the worker died): the server may "
    "have accepted it. Not sent again by itself; check the recipient got it, or send it again."
)
BATCH = 100  # due jobs read at a time by one run (_send_waiting)


class Refused(Exception):
    """The server's reply, and whether it is permanent (5xx)."""

    def __init__(self, reply: str, permanent: bool):
        super().__init__(reply)
        self.reply, self.permanent = reply, permanent


@jobs.handler("mail.send", atomic=False)
def send_job(job):
    # One connection per server for the run, and the run's sent messages on the timelines together.
    with connections.reused() as outermost, timeline.batched():
        outcome = _send_one(job)
        if outermost:
            _send_waiting(job)
    return outcome


def _send_waiting(job) -> None:
    """Run the other due ``mail.send`` jobs now, on this run's open connections: each through the job
    runtime (claimed exactly once, its own retries and status, the same crash rules), so messages
    queued together share one connection per server. Bounded by BATCH jobs at a time and half the job
    lease, so this run's own job is settled long before another worker would take it over."""
    deadline = time.monotonic() + jobs.lease().total_seconds() / 2
    done = {job.pk}
    while time.monotonic() < deadline:
        due = (
            Job.objects.filter(kind="mail.send", status=JobStatus.PENDING, run_at__lte=timezone.now())
            .exclude(pk__in=done)
            .order_by("run_at", "id")
            .values_list("pk", flat=True)[:BATCH]
        )
        ids = list(due)
        if not ids:
            return
        for pk in ids:
            done.add(pk)
            jobs.run(pk)  # "skipped" when another worker claimed it first
            if time.monotonic() >= deadline:
                return


def _send_one(job):
    email = OutgoingEmail.objects.filter(pk=job.payload.get("email_id")).first()
    if email is not None and email.status == EmailStatus.SENDING:
        _unknown(email)  # an earlier attempt died talking to the server: it may have the message
        return None
    if email is None or email.status != EmailStatus.QUEUED:
        return None  # deleted, or already sent/failed: nothing to do
    try:  # the sender's own server (crm/mail/accounts.py), else the organization's
        server = smtp.configured() if email.notification else accounts.server_for(email.sender)
    except accounts.Unusable as exc:  # never sent another way: the user chose their server
        _set(email, status=EmailStatus.FAILED, last_error=str(exc))
        return None
    if server is None:
        _set(email, status=EmailStatus.NOT_SENT, last_error=smtp.NOT_CONFIGURED)
        return None
    token = _claim(email)
    if token is None:
        return None  # another attempt claimed it meanwhile
    try:
        deliver(email, server)
    except Refused as exc:
        return _refused(job, email, token, exc)
    _outcome(email, token, status=EmailStatus.SENT, sent_at=timezone.now(), last_error="")
    if email.notification:
        return None  # the CRM's notice to a user is about no record: on no timeline
    try:  # now, or with the run's other sent messages (crm/mail/timeline.py)
        timeline.record_sent(email)
    except Exception:  # the message went out: a timeline problem must not make it look unsent
        log.exception("Could not put sent email %s on the timeline", email.pk)
    return None


def _claim(email: OutgoingEmail) -> str | None:
    """Mark the message "sending" with a fresh attempt token and its Message-ID, committed (the handler
    is not atomic) before any byte goes to the server: a crash from here on leaves "sending" behind,
    which the next attempt reads as "the server may have it"."""
    token = secrets.token_hex(16)
    message_id = email.message_id or make_msgid(domain=email.from_email.rpartition("@")[2] or "localhost")
    values = {"status": EmailStatus.SENDING, "send_token": token, "message_id": message_id}
    claimed = OutgoingEmail.objects.filter(pk=email.pk, status=EmailStatus.QUEUED).update(
        attempts=F("attempts") + 1, **values
    )
    if not claimed:
        return None
    for key, value in values.items():
        setattr(email, key, value)
    email.attempts += 1
    return token


def _outcome(email: OutgoingEmail, token: str, **values) -> bool:
    """Write what this attempt learnt, only if the message is still this attempt's. "unknown" counts as
    its own: a slow worker another one gave up on still knows best what the server said."""
    mine = OutgoingEmail.objects.filter(
        pk=email.pk, send_token=token, status__in=[EmailStatus.SENDING, EmailStatus.UNKNOWN]
    )
    if not mine.update(**values):
        return False
    for key, value in values.items():
        setattr(email, key, value)
    return True


def _refused(job, email: OutgoingEmail, token: str, exc: Refused):
    if exc.permanent or not jobs.will_retry(job):
        _outcome(email, token, status=EmailStatus.FAILED, last_error=exc.reply)
        return None
    # Temporary: queued again for the job's next attempt; the server refused it, so it does not have it.
    still_sending = OutgoingEmail.objects.filter(pk=email.pk, send_token=token, status=EmailStatus.SENDING)
    if still_sending.update(status=EmailStatus.QUEUED, last_error=exc.reply):
        return jobs.RetryLater(exc.reply)
    # Another worker gave up on this attempt (and ended its job): nobody would retry, so it fails visibly.
    _outcome(email, token, status=EmailStatus.FAILED, last_error=exc.reply)
    return None


def _unknown(email: OutgoingEmail) -> None:
    OutgoingEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING, send_token=email.send_token).update(
        status=EmailStatus.UNKNOWN, last_error=UNKNOWN
    )


def _set(email: OutgoingEmail, **values) -> None:
    for key, value in values.items():
        setattr(email, key, value)
    OutgoingEmail.objects.filter(pk=email.pk).update(**values)


def deliver(email: OutgoingEmail, server: smtp.SmtpServer) -> str:
    """Send through ``server``; the Message-ID sent, or Refused with the server's reply."""
    message_id = email.message_id or make_msgid(domain=email.from_email.rpartition("@")[2] or "localhost")
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        headers=_headers(email, message_id),
    )
    if email.body_html:
        # With tracking on, the links and pixel are added here, not stored: the outbox shows what was written.
        message.attach_alternative(tracking.tracked_html(email), "text/html")
    try:
        attachments.attach_all(email, message)
    except attachments.Missing as exc:
        raise Refused(str(exc), True) from None  # no retry brings a lost file back
    try:
        connections.send(server, message)
    except smtplib.SMTPRecipientsRefused as exc:
        replies = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        raise Refused("; ".join(replies), all(code >= 500 for code, _ in exc.recipients.values())) from None
    except smtplib.SMTPResponseException as exc:
        raise Refused(f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Refused(f"{type(exc).__name__}: {exc}", False) from None
    return message_id


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _headers(email: OutgoingEmail, message_id: str) -> dict[str, str]:
    headers = {"Message-ID": message_id}
    if email.in_reply_to:  # a reply: the thread headers (crm/mail/reply_headers.py)
        headers["In-Reply-To"] = email.in_reply_to
        headers["References"] = email.references or email.in_reply_to
    return headers
