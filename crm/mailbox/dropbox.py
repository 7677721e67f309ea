"""Each user's BCC/forwarding address: mail a user sends from another client (their phone, Outlook) with
it in Bcc, or forwards to it, is filed on the right timelines as the user's, through a shared inbox.

The operator sets MAIL_BCC_ADDRESS to the address of a shared inbox connected in the CRM (for example
``crm-bcc@example.com``, docs/email.md "BCC address"). A user's address is that one with a token after
a "+" (``crm-bcc+3f9a...@example.com``); mail servers deliver plus-addresses to the base mailbox and
record the address in ``Delivered-To``/``X-Original-To`` (a Bcc is in no visible header). The sync of a
shared inbox (sync.py) asks ``sender_of``: a message delivered to a user's address is filed with that
user as owner and matched with that user's eyes, but only when it is From that user's own address; any
other sender using the address (it is not a secret that holds against a determined forger, only
against mistakes and spam) is ignored and logged. A new token retires the old address.

A forwarded message is filed on the timelines of the people of the forwarded mail: those of an
attached original (message/rfc822) and of the ``From:``/``To:``/``Cc:`` lines of an inline forward."""

from __future__ import annotations

import logging
import re
import secrets
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses

from django.conf import settings
from django.db import transaction

from crm.mailbox.models import MailDropAddress

log = logging.getLogger("crm.mailbox")
REFUSED = object()  # delivered to a user's address, but not from that user: not filed
FORWARD_MARK = re.compile(
    r"(-{2,}\s*(Forwarded message|Original Message)\s*-{2,}|^Begin forwarded message:)", re.I | re.M
)
HEADER_LINE = re.compile(r"^\s*\**(From|To|Cc|De|À|An|Von)\s*:\**\s*(.+)$", re.I | re.M)
MAX_FORWARDED = 200


def _base() -> tuple[str, str] | None:
    local, at, domain = (settings.MAIL_BCC_ADDRESS or "").partition("@")
    return (local, domain) if local and at and domain else None


def address_of(user, *, create: bool = True) -> str:
    """The user's BCC address ("" when MAIL_BCC_ADDRESS is not set)."""
    base = _base()
    if base is None:
        return ""
    drop = MailDropAddress.objects.filter(user_id=user.pk).first()
    if drop is None:
        if not create:
            return ""
        drop, _ = MailDropAddress.objects.get_or_create(user_id=user.pk, defaults={"token": secrets.token_hex(8)})
    return f"{base[0]}+{drop.token}@{base[1]}"


@transaction.atomic
def new_address(*, actor) -> str:
    """A new token for the actor: the old address stops filing anything."""
    MailDropAddress.objects.update_or_create(user_id=actor.pk, defaults={"token": secrets.token_hex(8)})
    return address_of(actor)


def sender_of(mailbox, parsed):
    """The user a shared inbox's message was sent by through their BCC address; None when it was not
    delivered to one; REFUSED when it was, but not From that user."""
    base = _base()
    if base is None or not mailbox.shared:
        return None
    pattern = re.compile(rf"{re.escape(base[0])}\+([0-9a-f]{{16}})@{re.escape(base[1])}")
    tokens = {m.group(1) for a in [*parsed.delivered_to, *parsed.to, *parsed.cc] if (m := pattern.fullmatch(a))}
    if not tokens:
        return None
    drops = MailDropAddress.objects.select_related("user").filter(token__in=tokens, user__is_active=True)
    for drop in drops:
        if (drop.user.email or "").lower() == parsed.from_address:
            return drop.user
    log.info(
        "Mailbox %s: %s was sent to a user's BCC address by %s, who is not that user: not filed",
        mailbox.pk,
        parsed.message_id,
        parsed.from_address,
    )
    return REFUSED


def own_addresses(user) -> set[str]:
    """The user's addresses: theirs and their BCC address, never matched as a person to link."""
    base = settings.MAIL_BCC_ADDRESS or ""
    return {a for a in [(user.email or "").lower(), address_of(user, create=False), base] if a}


def forwarded_people(raw: bytes, text: str) -> set[str]:
    """The addresses of a forwarded message: an attached original's headers, else the header lines of an
    inline forward ("---------- Forwarded message ---------", Outlook's "-----Original Message-----")."""
    found: set[str] = set()
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            for name in ("From", "To", "Cc"):
                found |= _addresses([str(v) for v in (inner.get_all(name, failobj=[]) or [])])
    mark = FORWARD_MARK.search(text or "")
    if mark:
        found |= _addresses([m.group(2) for m in HEADER_LINE.finditer(text[mark.end() : mark.end() + 5000])])
    return set(sorted(found)[:MAX_FORWARDED])


def _addresses(values: list[str]) -> set[str]:
    return {a.strip().lower() for _, a in getaddresses(values) if "@" in a and len(a) <= 320}
