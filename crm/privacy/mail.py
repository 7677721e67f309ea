"""The person's email in an erasure and a subject access: messages sent to them and received from or
about them, opens and clicks, tracking tokens, attachments (rows and files), meeting attendee rows.

The rule (docs/deploy.md "Privacy (GDPR)", docs/email.md "Bounces"):

- a **sent** message to nobody but the person (their addresses in To/Cc/Bcc are all there is) is
  deleted; one that also went to others is kept for them with the person's address replaced by
  "[erased]" wherever it is (recipients, subject, bodies, the server's reply, the bounce diagnostic,
  text attachments such as a meeting's invite.ics). Either way its open and click events are deleted
  (a pixel and a link are per message, not per recipient, so the person's cannot be told apart) and
  its tracking token is cleared, so nothing more is recorded.
- a **received** message From the person is deleted (their words); one that only names them in To/Cc
  is kept with their address replaced, as above.
- a deleted message's timeline activity (the email on the timelines, with its text) is deleted too,
  through the activity's delete service; a kept one's loses the address in its subject and body, in its
  change-log entries and in the search index. Attachments' files are deleted from storage after the
  commit (a rolled-back erasure keeps them with their rows).
- meeting attendee rows with the person's address are deleted; the bounce list is handled by
  crm/privacy/erasure.py.

Names inside free text of a message kept for others ("Hi Carl") are not detected: only addresses are.
"""

from __future__ import annotations

import json
import re
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

ERASED = "[erased]"
FOLD = re.compile(r"\r?\n[ \t]")
TEXT_TYPES = ("text/", "application/ics", "application/json")


def _pattern(emails) -> re.Pattern | None:
    if not emails:
        return None
    return re.compile("|".join(re.escape(e) for e in sorted(emails, key=len, reverse=True)), re.IGNORECASE)


def _mentions(model, fields: list[str], emails) -> Q:
    """Rows whose ``fields`` (cast to text: JSON lists too) contain one of the addresses."""
    q = Q(pk__in=[])
    for f in fields:
        for e in sorted(emails):
            q |= Q(**{f"_t_{f}__icontains": e})
    return model.objects.annotate(**{f"_t_{f}": Cast(f, TextField()) for f in fields}).filter(q)


def sent_to(emails):
    from crm.mail.models import OutgoingEmail

    return _mentions(OutgoingEmail, ["to", "cc", "bcc"], emails) if emails else OutgoingEmail.objects.none()


def received_about(emails):
    from crm.mailbox.models import InboundMessage

    if not emails:
        return InboundMessage.objects.none()
    return _mentions(InboundMessage, ["from_address", "to", "cc"], emails)


def _others(addresses, emails) -> list[str]:
    return [a for a in addresses or [] if a.lower() not in emails]


def forget(person, actor, counts: dict, delete) -> list[tuple[str, int]]:
    """Erase the person's mail (the caller's transaction); ``delete(obj, actor)`` deletes an activity
    through its service. Returns the change-log keys of the activities deleted."""
    from crm.mail.models import MeetingAttendee

    emails = {e.lower() for e in person.emails}
    if not emails:
        return []
    pattern = _pattern(emails)
    drop_activities, keep_activities, files = set(), set(), []
    sent_deleted, sent_kept = _forget_sent(emails, pattern, drop_activities, keep_activities, files)
    got_deleted, got_kept = _forget_received(emails, pattern, drop_activities, keep_activities, files)
    keys = _forget_activities(drop_activities, keep_activities - drop_activities, pattern, actor, delete)
    counts["emails_sent_erased"] = sent_deleted
    counts["emails_sent_anonymized"] = sent_kept
    counts["emails_received_erased"] = got_deleted
    counts["emails_received_anonymized"] = got_kept
    counts["meeting_attendees_erased"] = MeetingAttendee.objects.filter(email__in=sorted(emails)).delete()[0]
    transaction.on_commit(partial(_delete_files, files))
    return keys


def _forget_sent(emails, pattern, drop, keep, files) -> tuple[int, int]:
    from crm.mail.models import EngagementEvent

    deleted = kept = 0
    for email in sent_to(emails).prefetch_related("attachments"):
        EngagementEvent.objects.filter(email=email).delete()
        if email.activity_id:
            drop.add(email.activity_id)
        if not (_others(email.to, emails) or _others(email.cc, emails) or _others(email.bcc, emails)):
            files += [a.file.name for a in email.attachments.all() if a.file]
            email.delete()
            deleted += 1
            continue
        drop.discard(email.activity_id)
        keep.add(email.activity_id)
        for f in ("to", "cc", "bcc"):
            setattr(email, f, [ERASED if a.lower() in emails else a for a in getattr(email, f)])
        for f in ("subject", "body_html", "body_text", "last_error", "bounce_diagnostic"):
            setattr(email, f, pattern.sub(ERASED, getattr(email, f) or ""))
        email.track_token = ""
        email.save()
        for attachment in email.attachments.all():
            _scrub_file(attachment, pattern)
        kept += 1
    return deleted, kept


def _forget_received(emails, pattern, drop, keep, files) -> tuple[int, int]:
    from crm.mailbox.models import MailThread

    deleted = kept = 0
    for message in received_about(emails).prefetch_related("files").select_related("thread"):
        if (message.from_address or "").lower() in emails:
            files += [a.file.name for a in message.files.all() if a.file]
            if message.activity_id:
                drop.add(message.activity_id)
            message.delete()
            deleted += 1
            continue
        if message.activity_id:
            keep.add(message.activity_id)
        message.to = [ERASED if a.lower() in emails else a for a in message.to]
        message.cc = [ERASED if a.lower() in emails else a for a in message.cc]
        for f in ("subject", "text", "html"):
            setattr(message, f, pattern.sub(ERASED, getattr(message, f) or ""))
        message.save()
        for attachment in message.files.all():
            _scrub_file(attachment, pattern)
        kept += 1
    MailThread.objects.filter(messages__isnull=True).delete()  # a conversation with nothing left in it
    return deleted, kept


def _forget_activities(drop, keep, pattern, actor, delete) -> list[tuple[str, int]]:
    """The email activities of deleted messages deleted; those of kept ones without the address."""
    from crm.audit.models import ObjectChange
    from crm.records.models import Activity
    from crm.search import index as search_index

    keys = []
    for activity in Activity.objects.filter(pk__in=drop):
        keys.append((activity.object_type, activity.pk))
        delete(activity, actor)
    for activity in Activity.objects.filter(pk__in=keep):
        activity.subject = pattern.sub(ERASED, activity.subject or "")
        activity.body = pattern.sub(ERASED, activity.body or "")
        Activity.objects.filter(pk=activity.pk).update(subject=activity.subject, body=activity.body)
        search_index.update(activity)
    entries = list(ObjectChange.objects.filter(object_type="activity", object_id__in=keep))
    for entry in entries:
        entry.changes = json.loads(pattern.sub(ERASED, json.dumps(entry.changes or {})))
        entry.object_repr = pattern.sub(ERASED, entry.object_repr or "")
    ObjectChange.objects.bulk_update(entries, ["changes", "object_repr"], batch_size=500)
    return keys


def _scrub_file(attachment, pattern) -> None:
    """A text attachment (an invite.ics names its attendees) rewritten without the address."""
    if not attachment.file or not attachment.content_type.startswith(TEXT_TYPES):
        return
    with attachment.file.open("rb") as fh:
        text = fh.read().decode("utf-8", "replace")
    if "calendar" in attachment.content_type or attachment.filename.endswith(".ics"):
        text = FOLD.sub("", text)  # RFC 5545 folds lines at 75 octets, maybe inside an address: unfolded
    if pattern.search(text):
        old = attachment.file.name
        attachment.file.save(old.rsplit("/", 1)[-1], ContentFile(pattern.sub(ERASED, text).encode()), save=True)
        transaction.on_commit(partial(_delete_files, [old]))


def _delete_files(names) -> None:
    for name in names:
        default_storage.delete(name)


# --- subject access ---------------------------------------------------------------------------------


def access(person) -> dict[str, object]:
    """The files of the subject-access archive about the person's mail: the lists, and the attachments
    themselves (the person is owed a copy of the data, not only its name) under ``attachments/``."""
    from crm.mail.models import BouncedAddress, MeetingAttendee

    emails = {e.lower() for e in person.emails}
    files: dict[str, bytes] = {}
    sent = [
        {
            **{f: getattr(m, f) for f in ("id", "from_email", "to", "cc", "bcc", "subject", "body_text", "status")},
            **{f: getattr(m, f) for f in ("created_at", "sent_at", "bounced_at", "bounce_diagnostic", "tracking")},
            "attachments": [a.filename for a in m.attachments.all()],
            "attachment_files": _files(files, f"sent/{m.pk}", m.attachments.all()),
            "engagement": [
                {"kind": e.kind, "url": e.url, "at": e.at, "ip": e.ip, "user_agent": e.user_agent}
                for e in m.engagements.all()
            ],
        }
        for m in sent_to(emails).prefetch_related("attachments", "engagements").order_by("id")
    ]
    received = [
        {
            **{f: getattr(m, f) for f in ("id", "from_address", "from_name", "to", "cc", "subject", "sent_at")},
            "text": m.text,
            "attachments": [a.filename for a in m.files.all()],
            "attachment_files": _files(files, f"received/{m.pk}", m.files.all()),
        }
        for m in received_about(emails).prefetch_related("files").order_by("id")
    ]
    attendees = list(
        MeetingAttendee.objects.filter(email__in=sorted(emails)).values("activity_id", "email", "name", "status")
    )
    bounces = list(
        BouncedAddress.objects.filter(email__in=sorted(emails)).values("email", "bounced_at", "status", "diagnostic")
    )
    return {
        "emails_sent.json": sent,
        "emails_received.json": received,
        "meetings.json": attendees,
        "bounces.json": bounces,
        **files,
    }


def _files(files: dict[str, bytes], folder: str, attachments) -> list[str]:
    """Adds each stored attachment's bytes to ``files`` as ``attachments/<folder>/<n>-<safe name>``
    and answers those paths (a row kept without its file, one over the size limit, has none)."""
    from crm.dataio.uploads import safe_filename

    paths = []
    for n, attachment in enumerate(attachments, 1):
        if not attachment.file:
            continue
        try:
            with attachment.file.open("rb") as fh:
                data = fh.read()
        except OSError:  # gone from storage: the row still names it in "attachments"
            continue
        path = f"attachments/{folder}/{n}-{safe_filename(attachment.filename, 'attachment')}"
        files[path] = data
        paths.append(path)
    return paths
