"""The sync of one mailbox: each chosen folder incrementally by UIDVALIDITY/UID, messages since the
start date only, in batches that each commit with the folder's new last UID, so a worker stopped
mid-sync resumes after the last committed batch (no gap), and a batch replayed after a crash skips
what it stored (Message-ID unique per mailbox: no duplicate).

A changed UIDVALIDITY restarts the folder from UID 0; messages already stored are recognised by
Message-ID. A refused password pauses the mailbox with the server's reason; nothing is lost, the
folder states stay where they were. A dropped connection leaves the error on the mailbox and the next
run picks up after the last committed batch.
"""

from __future__ import annotations

import gc
import imaplib
import logging
import ssl
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.automation.ssrf import Refused
from crm.automation.system import automation_user
from crm.core import crypto
from crm.core.context import change_context
from crm.core.errors import ServiceError, ValidationFailed
from crm.mailbox import attachments, bounces, calendar_replies, dropbox, imap
from crm.mailbox.matching import match, match_many
from crm.mailbox.models import InboundMessage, Mailbox, MailFolderState
from crm.mailbox.parsing import Parsed, parse
from crm.mailbox.threads import assign_threads
from crm.privacy.blocklist import blocked_emails
from crm.records.services.activities_bulk import activity_create_many
from crm.records.services.leads import lead_create

log = logging.getLogger("crm.mailbox")
# A batch is committed with the folder's new last UID (one transaction, a few statements for all its
# messages): up to BATCH messages, fetched FETCH_CHUNK at a time, and no more FETCH once it holds
# BATCH_BYTES of raw mail, so a batch of large messages stays small in memory. 200 rather than 50:
# each batch costs about 20 statements and a commit whatever its size (docs/benchmarks.md, issue 16).
BATCH = 200
FETCH_CHUNK = 50
BATCH_BYTES = 16 * 2**20
MAX_BODY = 100_000

# Email-to-case and other listeners: called as hook(message, parsed) after a message is stored.
STORED_HOOKS: list = []


def _error(mailbox: Mailbox, message: str, *, pause: bool) -> None:
    values = {"last_error": message[:2000], "last_error_at": timezone.now()}
    if pause:
        values["paused"] = True
    Mailbox.objects.filter(pk=mailbox.pk).update(**values)


@contextmanager
def _old_objects_frozen():
    """The objects alive before the sync (Django, the app: most of a worker's heap) left out of the
    cyclic GC's full collections while it runs: parsing makes so many objects that those collections
    ran every few hundred messages, each walking the whole heap (0.2 ms of CPU per message of about
    1.2, measured with gc.callbacks). Unfrozen after, so what dies meanwhile is still collected."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def sync_mailbox(mailbox_id: int) -> dict:
    """Sync every chosen folder; returns {"imported": n, "errors": [...]}. Never raises for the
    server's failures: they are the mailbox's state."""
    mailbox = Mailbox.objects.defer("password").filter(pk=mailbox_id).first()  # read when connecting
    if mailbox is None or mailbox.paused:
        return {"imported": 0, "errors": [], "skipped": True}
    try:
        conn = imap.connect(mailbox)
    except (crypto.KeyMissing, crypto.Undecryptable) as exc:
        _error(mailbox, f"The stored password cannot be read ({exc}): enter it again. Sync is paused.", pause=True)
        return {"imported": 0, "errors": ["password"]}
    except Refused as exc:  # the SSRF guard: a private or local address
        _error(mailbox, f"Not connected: {exc} Sync is paused.", pause=True)
        return {"imported": 0, "errors": ["refused"]}
    except imap.AuthFailed as exc:
        _error(mailbox, f"The server refused the user name or password ({exc}). Sync is paused.", pause=True)
        return {"imported": 0, "errors": ["auth"]}
    except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
        _error(mailbox, f"Could not connect to {mailbox.host}:{mailbox.port}: {exc}", pause=False)
        return {"imported": 0, "errors": ["connect"]}
    imported, errors = 0, []
    try:
        with _old_objects_frozen():
            for folder in mailbox.folders:
                try:
                    imported += sync_folder(conn, mailbox, folder)
                except imap.FolderMissing:
                    errors.append(f"The folder {folder!r} does not exist on the server.")
    except (OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error) as exc:
        errors.append(f"The connection failed during the sync: {exc}. The next sync continues from here.")
    finally:
        imap.close(conn)
    now = timezone.now()
    if errors:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_sync_at=now, last_error=" ".join(errors)[:2000], last_error_at=now
        )
    else:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_sync_at=now, last_error="")
    return {"imported": imported, "errors": errors}


def sync_folder(conn, mailbox: Mailbox, folder: str) -> int:
    uidvalidity = imap.select(conn, folder)
    state, _ = MailFolderState.objects.get_or_create(mailbox=mailbox, folder=folder)
    if state.uidvalidity != uidvalidity:
        # A new UIDVALIDITY: the old UIDs mean nothing any more. Start over; stored messages are
        # known by their Message-ID and are not stored again.
        state.uidvalidity, state.last_uid = uidvalidity, 0
        state.save(update_fields=["uidvalidity", "last_uid"])
    uids = imap.new_uids(conn, state.last_uid, mailbox.start_date)
    imported, start = 0, 0
    while start < len(uids):
        batch, fetched = _fetch_batch(conn, uids, start)
        start += len(batch)
        imported += _store_batch(mailbox, folder, state, batch, fetched)
    return imported


def _fetch_batch(conn, uids: list[int], start: int) -> tuple[list[int], list[tuple[int, bytes]]]:
    """The next batch from ``uids[start:]``: its UIDs (the ones asked for: a message deleted meanwhile
    is still covered by the high-water mark) and the messages fetched."""
    chunk, batch, fetched, size = min(FETCH_CHUNK, BATCH), [], [], 0
    while start < len(uids) and len(batch) < BATCH and size < BATCH_BYTES:
        asked = uids[start : start + min(chunk, BATCH - len(batch))]
        got = imap.fetch(conn, asked)
        batch += asked
        fetched += got
        size += sum(len(raw) for _, raw in got)
        start += len(asked)
    return batch, fetched


def _store_batch(mailbox: Mailbox, folder: str, state: MailFolderState, batch: list[int], fetched) -> int:
    """One batch in one transaction; the attachment files it wrote are deleted if that rolls back
    (storage is not transactional: without this a failed batch would leave files no row names)."""
    written = attachments.Written()
    try:
        with transaction.atomic(), change_context(source="system"):
            # Two syncs of one mailbox at once (the schedule and "Sync now"): the second waits here,
            # then skips what the first committed.
            done = MailFolderState.objects.select_for_update().get(pk=state.pk).last_uid
            shared = Batch()
            shared.preload(mailbox, [(uid, raw) for uid, raw in fetched if uid > done])
            stored = sum(store(mailbox, folder, uid, raw, shared, written) for uid, raw in fetched if uid > done)
            shared.flush(mailbox, written)
            MailFolderState.objects.filter(pk=state.pk).update(last_uid=max(batch[-1], done), synced_at=timezone.now())
            Mailbox.objects.filter(pk=mailbox.pk).update(imported_count=F("imported_count") + stored)
    except BaseException:
        written.discard()
        raise
    return stored


@dataclass
class Pending:
    """A message checked and matched, waiting for its batch's writes."""

    folder: str
    uid: int
    parsed: Parsed
    links: list[dict]
    owner_id: int | None
    outbound: bool

    def activity_data(self) -> dict:
        parsed = self.parsed
        return {
            "kind": "email",
            "subject": parsed.subject,
            "body": parsed.text[:MAX_BODY],
            "occurred_at": parsed.sent_at,
            "direction": "outbound" if self.outbound else "inbound",
            "owner_id": self.owner_id,
            "links": self.links,
        }

    def message(self, mailbox: Mailbox, thread, activity) -> InboundMessage:
        parsed = self.parsed
        return InboundMessage(
            mailbox=mailbox,
            thread=thread,
            folder=self.folder,
            uid=self.uid,
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            from_address=parsed.from_address,
            from_name=parsed.from_name,
            to=parsed.to,
            cc=parsed.cc,
            subject=parsed.subject,
            sent_at=parsed.sent_at,
            text=parsed.text,
            html=parsed.html,
            attachments=[],
            activity=activity,
        )


class Batch:
    """What the messages of one batch share, looked up once: the automation user, and the records
    each set of addresses matched (a correspondent's messages come in runs). Only within the batch's
    transaction, so what it remembers cannot go stale; a lead made by email-to-lead clears it."""

    def __init__(self):
        self._actor = None
        self.matches: dict = {}
        self.pending: list[Pending] = []
        self.taken: set[str] = set()  # the Message-IDs pending: a batch holding one twice stores it once
        self.parsed: dict[int, Parsed] = {}
        self.stored: set[str] | None = None  # the batch's Message-IDs already stored (preload)
        self.blocked: set[str] | None = None  # the batch's addresses on the erasure block list (preload)

    def preload(self, mailbox: Mailbox, fetched: list[tuple[int, bytes]]) -> None:
        """Parse the batch, and read at once which of its messages are stored and what the addresses
        of each match (as seen by the mailbox's owner: a message sent through a BCC address is
        matched with its sender's eyes, then alone)."""
        self.parsed = {uid: parse(raw) for uid, raw in fetched}
        ids = [p.message_id for p in self.parsed.values()]
        self.stored = set(
            InboundMessage.objects.filter(mailbox=mailbox, message_id__in=ids).values_list("message_id", flat=True)
        )
        self.blocked = blocked_emails({a for p in self.parsed.values() for a in p.participants})
        own, viewer = mailbox.username.lower(), mailbox.owner
        groups = list({frozenset(p.participants - {own}) for p in self.parsed.values()} - {frozenset()})
        for group, found in zip(groups, match_many(groups, viewer), strict=True):
            self.matches[(group, getattr(viewer, "pk", None))] = found

    def any_blocked(self, addresses: set[str]) -> bool:
        if self.blocked is None:  # not preloaded: a message stored alone
            return bool(blocked_emails(addresses))
        return not self.blocked.isdisjoint(addresses)

    def known(self, mailbox: Mailbox, message_id: str) -> bool:
        if message_id in self.taken:
            return True
        if self.stored is not None:
            return message_id in self.stored
        return InboundMessage.objects.filter(mailbox=mailbox, message_id=message_id).exists()

    def add(self, item: Pending) -> None:
        self.pending.append(item)
        self.taken.add(item.parsed.message_id)

    def flush(self, mailbox: Mailbox, written: attachments.Written | None = None) -> None:
        """Write the pending messages: their threads, activities (with links, change log, search
        index and one record.created event each), message rows and files, then the stored hooks."""
        pending, self.pending, self.taken = self.pending, [], set()
        if not pending:
            return
        threads = assign_threads(mailbox, [p.parsed for p in pending])
        activities = activity_create_many(actor=self.actor, items=[p.activity_data() for p in pending])
        for result in activities:
            if isinstance(result, ValidationFailed):
                raise result  # as activity_create raised it: the batch rolls back
        rows = zip(pending, threads, activities, strict=True)
        messages = InboundMessage.objects.bulk_create([p.message(mailbox, thread, a) for p, thread, a in rows])
        for message, item in zip(messages, pending, strict=True):
            if item.parsed.files:
                message.attachments = attachments.store_all(message, item.parsed.files, written)
                InboundMessage.objects.filter(pk=message.pk).update(attachments=message.attachments)
        for message, item in zip(messages, pending, strict=True):
            for hook in STORED_HOOKS:
                hook(message, item.parsed)

    @property
    def actor(self):
        if self._actor is None:
            self._actor = automation_user()
        return self._actor

    def match(self, addresses: set[str], viewer) -> tuple[list[dict], bool]:
        key = (frozenset(addresses), getattr(viewer, "pk", None))
        if key not in self.matches:
            self.matches[key] = match(addresses, viewer)
        links, known = self.matches[key]
        return [dict(link) for link in links], known  # a copy: the activity service keeps what it is given


def _lead_for(mailbox: Mailbox, parsed: Parsed, actor) -> bool:
    """Email-to-lead: a lead for the sender of a message no known address is on."""
    if not parsed.from_address or parsed.from_address == mailbox.username.lower():
        return False
    first, _, last = (parsed.from_name or "").partition(" ")
    data = {
        "first_name": first[:100],
        "last_name": last[:100],
        "email": parsed.from_address,
        "source": "Email",
        "owner_id": mailbox.owner_id or mailbox.created_by_id,
    }
    try:
        with transaction.atomic():
            lead_create(actor=actor, data=data)
    except ServiceError as exc:  # an invalid or blocked address, no permission: the message is skipped
        log.info("Mailbox %s: no lead for %s: %s %s", mailbox.pk, parsed.from_address, exc.message, exc.fields)
        return False
    return True


def store(
    mailbox: Mailbox,
    folder: str,
    uid: int,
    raw: bytes,
    batch: Batch | None = None,
    written: attachments.Written | None = None,
) -> bool:
    """Store one message (once), linked to what it is about; False when skipped. A delivery status
    notice is not filed: it marks the address and the message that bounced (bounces.py). A message a
    user sent through their BCC address is theirs: matched with their eyes, on their name (dropbox.py).

    Within a batch the message is only checked and matched here; its rows are written with the
    batch's others by ``Batch.flush`` (a few statements for the batch, not ~15 per message). Alone
    (no batch), it is written before this returns."""
    if batch is None:
        with transaction.atomic():
            batch = Batch()
            kept = _check(mailbox, folder, uid, raw, batch)
            batch.flush(mailbox, written)
        return kept
    return _check(mailbox, folder, uid, raw, batch)


def _check(mailbox: Mailbox, folder: str, uid: int, raw: bytes, batch: Batch) -> bool:
    parsed = batch.parsed.pop(uid, None) or parse(raw)
    if parsed.bounce is not None:
        bounces.record(mailbox, parsed.bounce, parsed.sent_at)
        return False
    if batch.known(mailbox, parsed.message_id):
        return False
    if batch.any_blocked(parsed.participants):
        # Someone erased who asked not to be added again (crm/privacy/blocklist.py): their mail is theirs,
        # so the message is not kept, as imports and forms skip them. Logged without the address.
        log.info("Mailbox %s: message %s skipped, a participant is on the erasure block list", mailbox.pk, uid)
        return False
    if parsed.calendar:  # an attendee's answer to one of our invitations: their status on the meeting
        calendar_replies.apply(parsed.calendar, parsed.from_address, mailbox.pk)
    sender = dropbox.sender_of(mailbox, parsed)  # sent by a user through their BCC address
    if sender is dropbox.REFUSED:
        return False
    viewer = sender or mailbox.owner
    own = {mailbox.username.lower()} | (dropbox.own_addresses(sender) if sender else set())
    people = parsed.participants | (dropbox.forwarded_people(raw, parsed.text) if sender else set())
    links, known = batch.match(people - own, viewer)
    if not known and not sender and mailbox.email_to_lead and _lead_for(mailbox, parsed, viewer or batch.actor):
        batch.matches.clear()  # a new lead: what was matched before may now match it
        links, known = batch.match(people - own, viewer)
    if not known:
        return False  # nobody the CRM knows: not the CRM's mail
    owner_id = sender.pk if sender else (mailbox.owner_id or mailbox.created_by_id)
    batch.add(Pending(folder, uid, parsed, links, owner_id, outbound=parsed.from_address in own))
    return True
