"""The outbox: queue a message, send what waits, retry a failed one; who sees which messages.

Every message is a row (crm.mail.models.OutgoingEmail) before anything is sent, so nothing is lost:
with no mail server configured (no EMAIL_URL, a fresh ``make run``) it stays ``not_sent`` with the
reason, and ``send_waiting`` (an admin, once EMAIL_URL is set) queues those again. Sending is the
``mail.send`` job (crm/mail/sending.py), in the worker, with retries and backoff.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from crm.access.policy import policy_for, require_admin
from crm.automation import jobs
from crm.core import recordtypes
from crm.core.errors import BadRequest, NotFound, ValidationFailed
from crm.core.normalize import InvalidValue, normalize_email
from crm.mail import accounts, reply_headers, smtp, templates_service, tracking
from crm.mail import attachments as attachment_files
from crm.mail.models import EmailStatus, OutgoingEmail, OutgoingEmailLink, Tracking
from crm.mail.sanitize import clean_html, text_of

MAX_ATTEMPTS = 5
RETRYABLE = (EmailStatus.FAILED, EmailStatus.NOT_SENT, EmailStatus.UNKNOWN)


def addresses(values, field: str, errors: dict) -> list[str]:
    out: list[str] = []
    for i, value in enumerate(values or []):
        try:
            out.append(normalize_email(str(value)))
        except InvalidValue as exc:
            errors[f"{field}.{i}"] = f"{value!r}: {exc}"
    return list(dict.fromkeys(out))


def _links(actor, links, errors: dict) -> list[tuple[str, int]]:
    """The records the message is about: each of a type with a timeline, and visible to the actor."""
    pairs = []
    for i, link in enumerate(links or []):
        kind, pk = link.get("type"), link.get("id")
        rt = recordtypes.by_type(kind) if isinstance(kind, str) else None
        if rt is None or not rt.timeline:
            errors[f"links.{i}.type"] = f"No record type {kind!r} with a timeline."
        elif not isinstance(pk, int) or not rt.restricted(actor, "view").filter(pk=pk).exists():
            errors[f"links.{i}.id"] = f"No {kind} with id {pk}."
        else:
            pairs.append((kind, pk))
    return list(dict.fromkeys(pairs))


def _recipients(to, cc, bcc, errors: dict) -> tuple[list, list, list]:
    to, cc, bcc = addresses(to, "to", errors), addresses(cc, "cc", errors), addresses(bcc, "bcc", errors)
    if not to and "to" not in errors and not any(k.startswith("to.") for k in errors):
        errors["to"] = "Give at least one address to send to."
    cap = settings.MAIL_MAX_RECIPIENTS
    count = len(to) + len(cc) + len(bcc)
    if count > cap:
        errors["to"] = f"At most {cap} recipients per message (to, cc and bcc together); this one has {count}."
    return to, cc, bcc


def _from_template(actor, template_id, pairs, subject, body_html):
    """A template's subject and body rendered for the first linked record (and the sender)."""
    template = templates_service.get_visible(actor, template_id)
    record = None
    if pairs:
        record = templates_service.visible_record(actor, *pairs[0])
    if template.record_type and (record is None or record.object_type != template.record_type):
        raise ValidationFailed({"template_id": f"This template needs a linked {template.record_type} record first."})
    rendered = templates_service.render(template, record=record, sender=actor)
    return subject or rendered["subject"], body_html or rendered["body_html"]


@transaction.atomic
def queue_email(
    *,
    actor,
    to,
    cc=(),
    bcc=(),
    subject: str = "",
    body_html: str = "",
    body_text: str = "",
    links=(),
    template_id=None,
    attachments=(),
    reply_to_message=None,
) -> OutgoingEmail:
    """Write the message to the outbox and hand it to the worker (or keep it, with no server).

    ``attachments``: uploaded files (name, size, content_type, chunks), stored with the message.
    ``actor`` None: the CRM's own notice to a user (from DEFAULT_FROM_EMAIL, about no record, on no
    timeline), such as the notification mail of crm/automation/notifications.py. ``reply_to_message``:
    the received message (one the actor sees) this answers; its thread headers go on the reply."""
    if actor is None and (links or template_id is not None):
        raise ValueError("A notification (no actor) is about no record and uses no template.")
    errors: dict[str, str] = {}
    to, cc, bcc = _recipients(to, cc, bcc, errors)
    pairs = _links(actor, links, errors)
    attachment_files.check(attachments, errors)
    if errors:
        raise ValidationFailed(errors)
    in_reply_to, references = ("", "")
    if reply_to_message is not None:
        in_reply_to, references = reply_headers.headers_for(reply_headers.answered_message(actor, reply_to_message))
    if template_id is not None:
        subject, body_html = _from_template(actor, template_id, pairs, subject, body_html)
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationFailed({"subject": "Give the message a subject."})
    body_html = clean_html(body_html)
    mode = tracking.preference(actor) if actor is not None else Tracking.OFF  # never a notice to a user
    email = OutgoingEmail.objects.create(
        tracking=mode,
        track_token=tracking.new_token() if mode != Tracking.OFF else "",
        sender=actor,
        from_email=getattr(actor, "email", "") or settings.DEFAULT_FROM_EMAIL,
        notification=actor is None,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject[:255],
        body_html=body_html,
        body_text=body_text or text_of(body_html),
        in_reply_to=in_reply_to,
        references=references,
    )
    OutgoingEmailLink.objects.bulk_create(
        [OutgoingEmailLink(email=email, record_type=t, record_id=i) for t, i in pairs]
    )
    attachment_files.store(email, attachments)
    _hand_over(email)
    return email


def _hand_over(email: OutgoingEmail) -> None:
    if not accounts.has_server(None if email.notification else email.sender):
        email.status, email.last_error = EmailStatus.NOT_SENT, smtp.NOT_CONFIGURED
        email.save(update_fields=["status", "last_error"])
        return
    email.status = EmailStatus.QUEUED
    email.save(update_fields=["status"])
    jobs.enqueue("mail.send", {"email_id": email.pk}, max_attempts=MAX_ATTEMPTS)


@transaction.atomic
def retry(email: OutgoingEmail, *, actor) -> OutgoingEmail:
    """Queue a failed or unsent message again (its sender, or an admin); or "send again" one whose send
    is unknown (a worker died talking to the server), after its sender checked it did not arrive."""
    if email.sender_id != actor.pk and not policy_for(actor).is_admin:
        raise NotFound(f"No email with id {email.pk} of yours.")
    email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
    if email.status not in RETRYABLE:
        raise BadRequest(f"Only a failed, unsent or unknown message can be retried; this one is {email.status}.")
    _hand_over(email)
    return email


@transaction.atomic
def send_waiting(*, actor) -> int:
    """Queue every message kept as not sent (admins), once a mail server is configured."""
    require_admin(actor, "outgoing mail")
    if smtp.configured() is None:
        raise BadRequest(f"Set EMAIL_URL first: {smtp.NOT_CONFIGURED}.")
    waiting = list(OutgoingEmail.objects.select_for_update().filter(status=EmailStatus.NOT_SENT).order_by("id"))
    for email in waiting:
        _hand_over(email)
    return len(waiting)


# --- reads ---------------------------------------------------------------------------------------


def visible(user):
    """The user's own messages, and those about a record they can see (all, for admins)."""
    policy = policy_for(user)
    if policy.is_admin:
        return OutgoingEmail.objects.all()
    q = Q(sender_id=user.pk)
    for rt in recordtypes.all_types():
        if rt.timeline and policy.allows(rt.object_type, "view"):
            ids = rt.visible_ids(policy)
            rows = OutgoingEmailLink.objects.filter(record_type=rt.object_type)
            if ids is not None:
                rows = rows.filter(record_id__in=ids)
            q |= Q(pk__in=rows.values("email_id"))
    return OutgoingEmail.objects.filter(q)


def about(qs, record_type: str | None, record_id: int | None):
    """The messages of ``qs`` linked to one record (both given) or to a type's records."""
    links = OutgoingEmailLink.objects.filter(record_type=record_type or "")
    if record_id is not None:
        links = links.filter(record_id=record_id)
    return qs.filter(pk__in=links.values("email_id"))


def get_visible(user, pk: int) -> OutgoingEmail:
    found = visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No email with id {pk}.")
    return found
