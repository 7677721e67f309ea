"""Threading: a message joins the thread of a message it names (In-Reply-To, References) or of one
that names it (a reply fetched before its parent); without such headers, the newest thread with the
same normalized subject and the same participants within THREAD_GAP; otherwise a new thread.

A sync batch is threaded at once: what the stored messages and threads say is read in three queries
for the whole batch, then each message is threaded in order against that and the batch's earlier
messages (a reply in the same batch as its parent joins the parent's thread), and the new threads
and the moved last-message times are written in one statement each."""

from __future__ import annotations

import datetime as dt

from crm.mailbox.models import InboundMessage, MailThread
from crm.mailbox.parsing import Parsed, participants_key, subject_key

THREAD_GAP = dt.timedelta(days=60)


class _Known:
    """The threads a batch can join: by a message's id, by what a message replies to, and by subject
    key and participants; the batch's own messages and threads are added as they are threaded."""

    def __init__(self, mailbox, batch: list[Parsed]):
        mine = InboundMessage.objects.filter(mailbox=mailbox)
        named = {i for p in batch for i in [p.in_reply_to, *p.references] if i}
        ids = {p.message_id for p in batch}
        sent = list(mine.filter(message_id__in=named).values_list("message_id", "sent_at", "thread_id"))
        replies = list(mine.filter(in_reply_to__in=ids).values_list("in_reply_to", "thread_id"))
        keys = {subject_key(p.subject) for p in batch} - {""}
        times = [p.sent_at for p in batch]
        by_key = MailThread.objects.filter(
            mailbox=mailbox,
            subject_key__in=keys,
            participants_key__in={participants_key(p.participants) for p in batch},
            last_message_at__gte=min(times) - THREAD_GAP,
            last_message_at__lte=max(times) + THREAD_GAP,
        )
        wanted = {t for _, _, t in sent} | {t for _, t in replies}
        self.threads = {t.pk: t for t in MailThread.objects.filter(pk__in=wanted)} | {t.pk: t for t in by_key}
        self.by_id = {mid: (when, self.threads[t]) for mid, when, t in sent}
        self.replying: dict[str, MailThread] = {}
        for reply_to, t in replies:
            self.replying.setdefault(reply_to, self.threads[t])
        self.fallback = [t for t in self.threads.values() if t.subject_key in keys]

    def named(self, parsed: Parsed) -> MailThread | None:
        hits = [self.by_id[i] for i in [parsed.in_reply_to, *parsed.references] if i in self.by_id]
        if hits:
            return max(hits, key=lambda hit: hit[0])[1]  # the newest message named
        return self.replying.get(parsed.message_id)

    def by_subject(self, key: str, people: str, when: dt.datetime) -> MailThread | None:
        near = [
            t
            for t in self.fallback
            if t.subject_key == key
            and t.participants_key == people
            and t.last_message_at is not None
            and when - THREAD_GAP <= t.last_message_at <= when + THREAD_GAP
        ]
        return max(near, key=lambda t: t.last_message_at, default=None)

    def add(self, parsed: Parsed, thread: MailThread) -> None:
        self.by_id[parsed.message_id] = (parsed.sent_at, thread)
        if parsed.in_reply_to:
            self.replying.setdefault(parsed.in_reply_to, thread)


def assign_threads(mailbox, batch: list[Parsed]) -> list[MailThread]:
    """Each message's thread (saved), in the batch's order."""
    known = _Known(mailbox, batch)
    new, moved, out = [], {}, []
    for parsed in batch:
        thread = known.named(parsed)
        if thread is None:
            key, people = subject_key(parsed.subject), participants_key(parsed.participants)
            thread = known.by_subject(key, people, parsed.sent_at) if key else None
            if thread is None:
                thread = MailThread(
                    mailbox=mailbox,
                    subject=parsed.subject,
                    subject_key=key,
                    participants_key=people,
                    last_message_at=parsed.sent_at,
                )
                new.append(thread)
                known.fallback.append(thread)
        if thread.last_message_at is None or parsed.sent_at > thread.last_message_at:
            thread.last_message_at = parsed.sent_at
            if thread.pk is not None:
                moved[thread.pk] = thread
        known.add(parsed, thread)
        out.append(thread)
    MailThread.objects.bulk_create(new)  # their ids are set (RETURNING) before messages point at them
    MailThread.objects.bulk_update(list(moved.values()), ["last_message_at"])
    return out
