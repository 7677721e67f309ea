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
"""

from __future__ import annotations

import logging
import secrets
import smtplib

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db.models import F
from django.utils import timezone

from crm.automation import jobs
from crm.mail import accounts, attachments, smtp, timeline, tracking
from crm.mail.models import EmailStatus, OutgoingEmail

log = logging.getLogger("crm.mail")
UNKNOWN = (
    "An attempt to send it stopped while talking to the mail server (the worker died): the server may "
    "have accepted it. Not sent again by itself; check the recipient got it, or send it again."
)
SMTP_BACKEND = "crm.mail.pinned.PinnedEmailBackend"  # Django's, connecting to a checked address when given


class Refused(Exception):
    """The server's reply, and whether it is permanent (5xx)."""

    def __init__(self, reply: str, permanent: bool):
        super().__init__(reply)
        self.reply, self.permanent = reply, permanent


@jobs.handler("mail.send", atomic=False)
def send_job(job):
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
    try:
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
    connection = get_connection(SMTP_BACKEND, fail_silently=False, **_connection_options(server))
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        replies = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        raise Refused("; ".join(replies), all(code >= 500 for code, _ in exc.recipients.values())) from None
    except smtplib.SMTPResponseException as exc:
        raise Refused(f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Refused(f"{type(exc).__name__}: {exc}", False) from None
    return message_id


def _connection_options(server: smtp.SmtpServer) -> dict:
    return {
        "host": server.host,
        "port": server.port,
        "username": server.username or None,
        "password": server.password or None,
        "use_tls": server.use_tls,
        "use_ssl": server.use_ssl,
        "timeout": server.timeout,
        "address": server.address,
    }


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _headers(email: OutgoingEmail, message_id: str) -> dict[str, str]:
    headers = {"Message-ID": message_id}
    if email.in_reply_to:  # a reply: the thread headers (crm/mail/reply_headers.py)
        headers["In-Reply-To"] = email.in_reply_to
        headers["References"] = email.references or email.in_reply_to
    return headers
