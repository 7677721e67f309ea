"""Threading: a message joins the thread of a message it names (In-Reply-To, References) or of one
that names it (a reply fetched before its parent); without such headers, the newest thread with the
same normalized subject and the same participants within THREAD_GAP; otherwise a new thread."""

from __future__ import annotations

import datetime as dt

from crm.mailbox.models import InboundMessage, MailThread
from crm.mailbox.parsing import Parsed, participants_key, subject_key

THREAD_GAP = dt.timedelta(days=60)


def thread_for(mailbox, parsed: Parsed) -> MailThread:
    named = [i for i in [parsed.in_reply_to, *parsed.references] if i]
    mine = InboundMessage.objects.filter(mailbox=mailbox)
    found = None
    if named:
        found = mine.filter(message_id__in=named).order_by("-sent_at").first()
    if found is None:
        found = mine.filter(in_reply_to=parsed.message_id).first()
    if found is not None:
        thread = found.thread
    else:
        key, people = subject_key(parsed.subject), participants_key(parsed.participants)
        thread = None
        if key:
            thread = (
                MailThread.objects.filter(mailbox=mailbox, subject_key=key, participants_key=people)
                .filter(
                    last_message_at__gte=parsed.sent_at - THREAD_GAP, last_message_at__lte=parsed.sent_at + THREAD_GAP
                )
                .order_by("-last_message_at")
                .first()
            )
        if thread is None:
            thread = MailThread.objects.create(
                mailbox=mailbox,
                subject=parsed.subject,
                subject_key=key,
                participants_key=people,
                last_message_at=parsed.sent_at,
            )
            return thread
    if thread.last_message_at is None or parsed.sent_at > thread.last_message_at:
        MailThread.objects.filter(pk=thread.pk).update(last_message_at=parsed.sent_at)
    return thread
