"""A sent message on the timelines: one activity of kind "email" linked to the records it was sent
from and to every contact and lead whose address it went to (to, cc, bcc), the companies of those
contacts and their open deals (a deal they are a contact of), made through the activity service by
the automation user (who may link any record), owned by the sender. Won and lost deals are left out:
mail to a customer after a deal closed is about what comes next, not that deal.

A run of the ``mail.send`` job sends many messages (crm/mail/sending.py): within ``batched()`` their
activities are written together through ``activity_create_many`` (the same rules, links, change log,
search index and one ``record.created`` event each) every FLUSH messages and when the run ends, instead
of one ``activity_create`` per message: that service call was most of a message's database work. A
worker killed between a message's "sent" and its run's write leaves it sent without its activity; the
next run takes it up (``_orphans``), so each sent message still gets exactly one."""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from crm.automation import jobs
from crm.automation.system import automation_user
from crm.core.context import change_context
from crm.core.errors import ValidationFailed
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.records.models import Contact, ContactEmail, Deal, Lead
from crm.records.models.deals import DealStatus
from crm.records.services.activities_bulk import activity_create_many

log = logging.getLogger("crm.mail")
MAX_BODY = 100_000
FLUSH = 50  # sent messages whose activities are written together (bounds what a crash leaves unwritten)
RECENT = 200  # sent messages without an activity a run takes up at most (newest first)
_pending: ContextVar[list | None] = ContextVar("crm_mail_sent_pending", default=None)


class _Matches:
    """Who a set of addresses reaches, read once for a batch of messages: five queries whatever the
    number of messages."""

    def __init__(self, addresses: set[str]):
        self.contacts: dict[str, set[int]] = {}
        self.leads: dict[str, set[int]] = {}
        self.company: dict[int, int] = {}
        self.deals: dict[int, set[int]] = {}
        if not addresses:
            return
        for pk, address in [
            *Contact.objects.filter(email__in=addresses).values_list("pk", "email"),
            *ContactEmail.objects.filter(email__in=addresses).values_list("contact_id", "email"),
        ]:
            self.contacts.setdefault(address, set()).add(pk)
        for pk, address in Lead.objects.filter(email__in=addresses).values_list("pk", "email"):
            self.leads.setdefault(address, set()).add(pk)
        ids = {pk for found in self.contacts.values() for pk in found}
        if not ids:
            return
        people = Contact.objects.filter(pk__in=ids, company__isnull=False).values_list("pk", "company_id")
        self.company = dict(people)
        through = Deal.contacts.through.objects.filter(contact_id__in=ids, deal__status=DealStatus.OPEN)
        for contact_id, deal_id in through.values_list("contact_id", "deal_id"):
            self.deals.setdefault(contact_id, set()).add(deal_id)

    def links(self, addresses: list[str]) -> list[dict]:
        contacts = sorted({pk for a in addresses for pk in self.contacts.get(a, ())})
        leads = sorted({pk for a in addresses for pk in self.leads.get(a, ())})
        companies = sorted({self.company[c] for c in contacts if c in self.company})
        deals = sorted({d for c in contacts for d in self.deals.get(c, ())})
        return (
            [{"type": "contact", "id": pk} for pk in contacts]
            + [{"type": "lead", "id": pk} for pk in leads]
            + [{"type": "company", "id": pk} for pk in companies]
            + [{"type": "deal", "id": pk} for pk in deals]
        )


def matched(addresses: list[str]) -> list[dict]:
    """The contacts (primary or other address) and leads with one of ``addresses``, the contacts'
    companies and their open deals."""
    return _Matches(set(addresses)).links(addresses)


def _addresses(email: OutgoingEmail) -> list[str]:
    return [*email.to, *email.cc, *email.bcc]


def _item(email: OutgoingEmail, found: _Matches) -> dict:
    links = list(email.record_links)
    for link in found.links(_addresses(email)):
        if link not in links:
            links.append(link)
    return {
        "kind": "email",
        "subject": email.subject,
        "body": (email.body_text or "")[:MAX_BODY],
        "occurred_at": email.sent_at,
        "direction": "outbound",
        "owner_id": email.sender_id,
        "links": links,
    }


def record_sent_many(emails: list[OutgoingEmail]) -> list:
    """Each message's timeline activity, written together; a message whose activity was refused is
    logged (it went out: it must not look unsent) and keeps no activity."""
    emails = [e for e in emails if e.activity_id is None]
    if not emails:
        return []
    with transaction.atomic(), change_context(source="system"):
        # Still without an activity, and held by this transaction: a swept message (``_orphans``) that
        # another run writes at the same time is written once (SQLite's writers take turns anyway).
        free = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
            pk__in=[e.pk for e in emails], activity_id__isnull=True
        )
        free = set(free.values_list("pk", flat=True))
        emails = [e for e in emails if e.pk in free]
        if not emails:
            return []
        prefetch_related_objects(emails, "links")  # the records each was sent from: one query for the batch
        found = _Matches({a for e in emails for a in _addresses(e)})
        items = [_item(e, found) for e in emails]
        results = activity_create_many(actor=automation_user(), items=items)
        made = []
        for email, result in zip(emails, results, strict=True):
            if isinstance(result, ValidationFailed):
                log.error("Sent email %s could not go on the timeline: %s", email.pk, result.fields)
                continue
            email.activity_id = result.pk
            made.append(email)
        OutgoingEmail.objects.bulk_update(made, ["activity_id"], batch_size=500)
    return [r for r in results if not isinstance(r, ValidationFailed)]


def record_sent(email: OutgoingEmail):
    """The message's timeline activity: written now, or, within ``batched()``, with the run's others
    (then None)."""
    pending = _pending.get()
    if pending is None:
        made = record_sent_many([email])
        return made[0] if made else None
    pending.append(email)
    if len(pending) >= FLUSH:
        _flush(pending)
    return None


def _flush(pending: list) -> None:
    emails = list(pending)
    pending.clear()
    try:
        record_sent_many(emails)
    except Exception:  # the messages went out: a timeline problem must not make them look unsent
        log.exception("Could not put sent emails %s on the timeline", [e.pk for e in emails])


def _orphans() -> list[OutgoingEmail]:
    """Sent messages of a run killed before its timeline write (at most FLUSH - 1 of them), taken up by
    the next run: sent messages without an activity, sent longer ago than a job lease (a run ends within
    half of one, so no live run still holds them), however many were sent since (the activity index
    finds them). At most RECENT a run, newest first: one whose activity is refused stays without one
    (logged each run) and must not crowd out the others for ever."""
    cutoff = timezone.now() - jobs.lease()
    lost = OutgoingEmail.objects.filter(
        activity_id__isnull=True, status=EmailStatus.SENT, notification=False, sent_at__lt=cutoff
    )
    return list(lost.order_by("-id")[:RECENT])


@contextlib.contextmanager
def batched():
    """Within: ``record_sent`` collects the messages and writes their activities together, every FLUSH
    and on leaving (an error included: what was sent still goes on the timeline)."""
    if _pending.get() is not None:
        yield
        return
    token = _pending.set(_orphans())
    try:
        yield
    finally:
        pending = _pending.get()
        _pending.reset(token)
        _flush(pending)
