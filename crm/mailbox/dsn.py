"""Delivery status notices (RFC 3464): a ``multipart/report; report-type=delivery-status`` message
read into the recipients that failed (``Action: failed``; ``delayed`` and ``delivered`` are not
bounces) and the Message-ID of the message that bounced, taken from the returned message or its
headers (``message/rfc822`` or ``text/rfc822-headers``). Anything else: None."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.parser import HeaderParser

MSGID = re.compile(r"<[^<>\s]+>")
MAX_RECIPIENTS = 100


@dataclass
class Failed:
    address: str
    status: str
    diagnostic: str


@dataclass
class Bounce:
    original_message_id: str
    failed: list[Failed] = field(default_factory=list)


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _address(value: str) -> str:
    """``rfc822; ann@example.com`` → ``ann@example.com`` (other address types are not mail addresses)."""
    kind, _, address = _text(value).partition(";")
    address = address.strip().strip("<>").lower() if address else kind.strip().strip("<>").lower()
    if kind.strip().lower() not in ("rfc822", address) or "@" not in address or len(address) > 320:
        return ""
    return address


def _blocks(part) -> list:
    payload = part.get_payload()
    return payload if isinstance(payload, list) else []


def _original_id(msg) -> str:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = _blocks(part)
            if inner:
                found = MSGID.findall(_text(inner[0].get("Message-ID")))
                if found:
                    return found[0][:255]
        elif ctype == "text/rfc822-headers":
            raw = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            headers = HeaderParser(policy=policy.compat32).parsestr(raw)
            found = MSGID.findall(_text(headers.get("Message-ID")))
            if found:
                return found[0][:255]
    return ""


def bounce_of(msg) -> Bounce | None:
    if msg.get_content_type() != "multipart/report" or (msg.get_param("report-type") or "").lower() != (
        "delivery-status"
    ):
        return None
    status_part = next((p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        return None
    failed = []
    # The first block is about the message; each further one about one recipient.
    for block in _blocks(status_part)[1 : MAX_RECIPIENTS + 1]:
        if _text(block.get("Action")).lower() != "failed":
            continue
        address = _address(block.get("Final-Recipient")) or _address(block.get("Original-Recipient"))
        if address:
            failed.append(Failed(address, _text(block.get("Status"))[:20], _text(block.get("Diagnostic-Code"))[:2000]))
    return Bounce(original_message_id=_original_id(msg), failed=failed)
