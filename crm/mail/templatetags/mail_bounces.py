"""``{% bounce_notices obj %}``: on a contact's or lead's page, each of its addresses that bounced, when,
and the receiving server's diagnostic (crm/mailbox/bounces.py records them)."""

from __future__ import annotations

from django import template

from crm.mail.models import BouncedAddress

register = template.Library()


def addresses_of(obj) -> list[str]:
    found = [getattr(obj, "email", "") or ""]
    if getattr(obj, "object_type", "") == "contact":
        found += [e.email for e in obj.emails.all()]
    return [a for a in dict.fromkeys(found) if a]


@register.inclusion_tag("mail/parts/bounce_notices.html")
def bounce_notices(obj):
    addresses = addresses_of(obj) if getattr(obj, "object_type", "") in ("contact", "lead") else []
    rows = list(BouncedAddress.objects.filter(email__in=addresses).order_by("email")) if addresses else []
    return {"bounces": rows}
