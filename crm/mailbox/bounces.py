"""A delivery status notice received by the sync: each failed recipient that is a contact's (primary
or other) or a lead's address is marked bouncing (crm.mail.models.BouncedAddress: date, status,
diagnostic; shown on those records' pages), and the outgoing message it names by Message-ID is marked
bounced. Only the mailbox owner's own sent mail is marked from a personal mailbox (a shared inbox,
where the organization's address gets its notices, may mark any). Addresses the CRM does not hold are
not recorded: a stray or forged notice cannot fill the table."""

from __future__ import annotations

from django.db.models import F, Q

from crm.mail.models import BouncedAddress, OutgoingEmail
from crm.mailbox.dsn import Bounce
from crm.records.models import Contact, Lead


def known(addresses: list[str]) -> set[str]:
    contacts = Contact.objects.filter(Q(email__in=addresses) | Q(emails__email__in=addresses))
    found = set(contacts.values_list("email", flat=True))
    found |= set(contacts.values_list("emails__email", flat=True))
    found |= set(Lead.objects.filter(email__in=addresses).values_list("email", flat=True))
    return {a for a in addresses if a in found}


def record(mailbox, bounce: Bounce, when) -> None:
    if not bounce.failed:
        return  # "delayed" or "delivered": a notice, but no bounce
    ours = known([f.address for f in bounce.failed])
    for failed in bounce.failed:
        if failed.address not in ours:
            continue
        values = {"bounced_at": when, "status": failed.status, "diagnostic": failed.diagnostic}
        row, created = BouncedAddress.objects.get_or_create(email=failed.address, defaults=values)
        if not created:
            BouncedAddress.objects.filter(pk=row.pk).update(count=F("count") + 1, **values)
    if bounce.original_message_id:
        sent = OutgoingEmail.objects.filter(message_id=bounce.original_message_id)
        if mailbox.owner_id is not None:
            sent = sent.filter(sender_id=mailbox.owner_id)
        reasons = "; ".join(f"{f.address}: {f.status} {f.diagnostic}".strip() for f in bounce.failed)
        sent.update(bounced_at=when, bounce_diagnostic=reasons[:2000])
