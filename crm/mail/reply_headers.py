"""The thread headers of a reply sent from the CRM: In-Reply-To names the message answered, References
its references and it (RFC 5322 3.6.4), so the recipient's client and our own threading (crm/mailbox/
threads.py) file the reply in the same conversation. The answered message must be one the sender sees
(its timeline activity, through the restricted queryset); any other is a 404, which tells nothing."""

from __future__ import annotations

from crm.core.errors import NotFound
from crm.mailbox.models import InboundMessage
from crm.records.models import Activity

MAX_REFERENCES = 20  # a long thread's oldest ids are dropped (the first is kept: the thread's root)


def answered_message(user, pk) -> InboundMessage:
    if not str(pk).isdigit():
        raise NotFound("No such message.")
    visible = Activity.objects.restrict(user).filter(kind="email")
    found = InboundMessage.objects.filter(pk=int(pk), activity__in=visible).first()
    if found is None:
        raise NotFound("No such message.")
    return found


def headers_for(message: InboundMessage) -> tuple[str, str]:
    """(In-Reply-To, References) of a reply to ``message``."""
    chain = [i for i in (message.references or []) if isinstance(i, str) and i.strip()]
    if message.message_id and message.message_id not in chain:
        chain.append(message.message_id)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return message.message_id, " ".join(chain)
