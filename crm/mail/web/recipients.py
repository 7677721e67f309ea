"""Addresses for the compose page: completion from the contacts and leads the user can see, and the
address a record is reached at. A field hidden from the user's role (crm.access.fieldrules) is never
offered, so completion shows no address the record page would not."""

from __future__ import annotations

from email.utils import getaddresses

from django.db.models import Q

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.customization.models import CustomField
from crm.records.models import Contact, ContactEmail, Lead

LIMIT = 10


def split(value: str) -> list[str]:
    """``"Ann <ann@x.org>, bob@y.org; c@z"`` → the addresses as typed (a bare name stays, to be refused)."""
    text = (value or "").replace(";", ",").replace("\n", ",")
    out = []
    for name, address in getaddresses([text]):
        out.append(address or name)
    # getaddresses drops what it cannot parse at all: keep those pieces, so the error names them
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    return [a.strip() for a in out if a.strip()] if len(out) >= len(pieces) else pieces


def _shown(policy, object_type: str) -> bool:
    return policy.allows(object_type, "view") and "email" not in policy.hidden_fields(object_type)


def suggest(user, typed: str) -> list[dict]:
    """Up to LIMIT contacts and leads the user can see whose name or address starts with ``typed``."""
    q = (typed or "").strip()
    if len(q) < 2:
        return []
    policy = policy_for(user)
    found: list[dict] = []
    if _shown(policy, "contact"):
        contacts = Contact.objects.restrict(user, "view")
        for c in contacts.filter(Q(email__istartswith=q) | Q(name__icontains=q)).exclude(email="")[:LIMIT]:
            found.append({"name": c.name, "email": c.email, "type": "contact"})
        # A contact's other addresses are the "email" field too (crm.access.fieldrules.aliases).
        others = ContactEmail.objects.filter(contact__in=contacts, email__istartswith=q).select_related("contact")
        for row in others[:LIMIT]:
            found.append({"name": row.contact.name, "email": row.email, "type": "contact"})
    if _shown(policy, "lead"):
        leads = Lead.objects.restrict(user, "view").exclude(email="")
        for lead in leads.filter(Q(email__istartswith=q) | Q(name__icontains=q))[:LIMIT]:
            found.append({"name": str(lead), "email": lead.email, "type": "lead"})
    unique = {row["email"].lower(): row for row in reversed(found)}
    return sorted(unique.values(), key=lambda r: (r["name"].lower(), r["email"]))[:LIMIT]


def of_record(user, record) -> list[str]:
    """The address(es) a record is reached at: its email, a deal's contacts', a custom record's email fields."""
    policy = policy_for(user)
    kind = record.object_type
    hidden = policy.hidden_fields(kind)
    if kind in ("contact", "lead") and "email" not in hidden:
        return [record.email] if record.email else []
    if kind == "deal" and _shown(policy, "contact"):
        contacts = Contact.objects.restrict(user, "view").filter(deals=record).exclude(email="")
        return list(contacts.values_list("email", flat=True)[:20])
    values = getattr(record, "custom_fields", None) or {}
    keys = CustomField.objects.filter(object_type=kind, field_type="email").values_list("key", flat=True)
    rt = recordtypes.by_type(kind)
    return [str(values[k]) for k in keys if values.get(k) and fieldrules.custom_name(rt, k) not in hidden]
