"""A sent message on the timelines: one activity of kind "email" linked to the records it was sent
from and to every contact and lead whose address it went to (to, cc, bcc), the companies of those
contacts and their open deals (a deal they are a contact of), made through the activity service by
the automation user (who may link any record), owned by the sender. Won and lost deals are left out:
mail to a customer after a deal closed is about what comes next, not that deal."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from crm.automation.system import automation_user
from crm.core.context import change_context
from crm.mail.models import OutgoingEmail
from crm.records.models import Contact, Deal, Lead
from crm.records.models.deals import DealStatus
from crm.records.services.activities import activity_create

MAX_BODY = 100_000


def matched(addresses: list[str]) -> list[dict]:
    """The contacts (primary or other address) and leads with one of ``addresses``, the contacts'
    companies and their open deals."""
    if not addresses:
        return []
    contacts = Contact.objects.filter(Q(email__in=addresses) | Q(emails__email__in=addresses)).distinct()
    contact_ids = sorted(set(contacts.values_list("pk", flat=True)))
    company_ids = sorted(
        set(Contact.objects.filter(pk__in=contact_ids, company__isnull=False).values_list("company_id", flat=True))
    )
    deals = Deal.objects.filter(contacts__in=contact_ids, status=DealStatus.OPEN).distinct()
    leads = Lead.objects.filter(email__in=addresses)
    return (
        [{"type": "contact", "id": pk} for pk in contact_ids]
        + [{"type": "lead", "id": pk} for pk in leads.values_list("pk", flat=True)]
        + [{"type": "company", "id": pk} for pk in company_ids]
        + [{"type": "deal", "id": pk} for pk in sorted(set(deals.values_list("pk", flat=True)))]
    )


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
