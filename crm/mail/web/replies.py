""" "Reply" from a conversation (/mail/compose/?type=&id=&reply=<message>): the compose form filled with
the sender's address (or, for a message the user sent, its recipients), "Re: " and the subject, and the
message quoted. The message must be one the user sees (its timeline activity); any other is a 404.

The form carries the message's id, and the outbox service puts its thread headers (In-Reply-To,
References: crm/mail/reply_headers.py) on the reply."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.html import escape, linebreaks

from crm.mail import reply_headers

RE = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.I)
QUOTE_CHARS = 4000


message_for = reply_headers.answered_message


def prefill(user, pk) -> dict:
    message = message_for(user, pk)
    own = (user.email or "").lower()
    if message.from_address and message.from_address.lower() != own:
        to = [message.from_address]
    else:  # the user's own message: reply to whom it went to
        to = [a for a in message.to or [] if isinstance(a, str) and a.lower() != own]
    subject = message.subject or ""
    if not RE.match(subject):
        subject = f"Re: {subject}".strip()
    who = escape(message.from_name or message.from_address)
    quoted = linebreaks((message.text or "")[:QUOTE_CHARS], autoescape=True)
    when = f"{message.sent_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    body = f"<p></p><p>On {when}, {who} wrote:</p><blockquote>{quoted}</blockquote>"
    return {"to": ", ".join(to), "subject": subject, "body_html": body, "reply": str(message.pk)}
