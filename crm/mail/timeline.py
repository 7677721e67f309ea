"""A sent message on the timelines: one activity of kind "email" linked to the records it was sent
from and to every contact and lead whose address it went to (to, cc, bcc), made through the activity
service by the automation user (who may link any record), owned by the sender."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from crm.automation.system import automation_user
from crm.core.context import change_context
from crm.mail.models import OutgoingEmail
from crm.records.models import Contact, Lead
from crm.records.services.activities import activity_create

MAX_BODY = 100_000


def matched(addresses: list[str]) -> list[dict]:
    """The contacts (primary or other address) and leads with one of ``addresses``."""
    if not addresses:
        return []
    contacts = Contact.objects.filter(Q(email__in=addresses) | Q(emails__email__in=addresses)).distinct()
    leads = Lead.objects.filter(email__in=addresses)
    return [{"type": "contact", "id": pk} for pk in contacts.values_list("pk", flat=True)] + [
        {"type": "lead", "id": pk} for pk in leads.values_list("pk", flat=True)
    ]


def record_sent(email: OutgoingEmail):
    links = email.record_links
    for link in matched([*email.to, *email.cc, *email.bcc]):
        if link not in links:
            links.append(link)
    data = {
        "kind": "email",
        "subject": email.subject,
        "body": (email.body_text or "")[:MAX_BODY],
        "occurred_at": email.sent_at,
        "direction": "outbound",
        "owner_id": email.sender_id,
        "links": links,
    }
    with transaction.atomic(), change_context(source="system"):
        activity = activity_create(actor=automation_user(), data=data).obj
        OutgoingEmail.objects.filter(pk=email.pk).update(activity_id=activity.pk)
    return activity
