"""A raw RFC 5322 message into what the CRM keeps, with the standard library's ``email`` package
(policy.compat32: headers stay strings, and only the few the sync reads are decoded, by
``email.header``; policy.default builds a header object for every header it is asked about, content
types included, which was most of the parse's time): text and sanitized HTML from
multipart/alternative, attachments and inline images (parts with a Content-ID) with their bytes
(crm/mailbox/attachments.py stores them), charsets decoded with replacement when a part lies about
its charset or names none that exists, and a delivery status notice recognised as a bounce
(crm/mailbox/dsn.py).

Inline images are dropped from the HTML: nh3 allows no ``cid:`` URL, so their ``<img>`` keeps no
source (nothing loads, nothing is fetched); the image itself is stored and listed as an attachment."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from crm.mail.sanitize import clean_html, text_of
from crm.mailbox import dsn
from crm.mailbox.dsn import Bounce

MAX_TEXT = 100_000
MAX_FILES = 100
MAX_ADDRESSES = 500  # per header: a message to 5,000 people keeps the first 500
MSGID = re.compile(r"<[^<>\s]+>")
SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass
class File:
    """An attachment or inline image with its bytes (never kept in the message row)."""

    name: str
    type: str
    data: bytes
    content_id: str = ""
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Parsed:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    sent_at: dt.datetime
    text: str
    html: str
    attachments: list[dict] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    bounce: Bounce | None = None
    calendar: str = ""  # the iCalendar text of a calendar message (an invitation's reply), if any
    delivered_to: list[str] = field(default_factory=list)  # Delivered-To / X-Original-To: the envelope

    @property
    def participants(self) -> set[str]:
        return {a for a in [self.from_address, *self.to, *self.cc] if a}


def _decoded(value: str) -> str:
    """Encoded words (RFC 2047) decoded, and raw 8-bit bytes (which compat32 keeps as surrogate
    escapes) read as UTF-8; a malformed encoded word (bad encoding, unknown charset) is left to
    policy.default's lenient header parser, as every header was before."""
    if not value.isascii():
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        try:
            return str(policy.default.header_factory("x-text", value))
        except Exception:  # the email package raises on some malformed headers: the raw value
            return value


def _raw(msg, name: str) -> list[str]:
    """A header's values as they came (compat32's ``get`` wraps one with 8-bit bytes in a Header)."""
    name = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == name]


def _header(msg, name: str) -> str:
    """A header as text (folded lines joined, encoded words decoded)."""
    values = _raw(msg, name)
    return " ".join(_decoded(values[0]).split()) if values else ""


def _addresses(msg, name: str) -> list[tuple[str, str]]:
    out = []
    for display, addr in getaddresses([_decoded(v) if not v.isascii() else v for v in _raw(msg, name)]):
        addr = addr.strip().lower()
        if "@" in addr and len(addr) <= 320:
            out.append((" ".join(_decoded(display).split())[:255], addr))
    return out[:MAX_ADDRESSES]


def _ids(value: str) -> list[str]:
    return [m[:255] for m in MSGID.findall(value or "")]


def _date(msg) -> dt.datetime:
    try:
        when = parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return timezone.now()
    if when is None:
        return timezone.now()
    return when if timezone.is_aware(when) else timezone.make_aware(when, dt.UTC)


def _content(part) -> str:
    """A text part decoded by its declared charset; an unknown or lying charset decodes as UTF-8 with
    replacement characters (then Latin-1 would mangle real UTF-8, so it is only the last resort)."""
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("latin-1", errors="replace")


def _file(part, ctype: str, number: int) -> File:
    content_id = _ids(_header(part, "Content-ID")) or [""]
    inline = bool(content_id[0]) and part.get_content_disposition() != "attachment"
    try:
        name = _decoded(part.get_filename() or "")  # RFC 2231 by the email package, RFC 2047 (Outlook) here
    except Exception:  # a malformed encoded filename: a made-up name below
        name = ""
    if not name:
        name = f"{'inline' if inline else 'attachment'}-{number}{mimetypes.guess_extension(ctype) or ''}"
    return File(
        name=name[:255],
        type=ctype[:255],
        data=part.get_payload(decode=True) or b"",
        content_id=content_id[0][:255],
        inline=inline,
    )


CALENDAR_TYPES = ("text/calendar", "application/ics")
MAX_CALENDAR = 200_000


def _calendar(msg) -> str:
    """The first calendar part: Outlook sends it as text/calendar in the alternative, Google both there
    and as an invite.ics attachment (application/ics); either says the same."""
    for part in msg.walk():
        if not part.is_multipart() and part.get_content_type() in CALENDAR_TYPES:
            return _content(part)[:MAX_CALENDAR]
    return ""


def _bodies(msg) -> tuple[str, str, list[File]]:
    text, html, files = "", "", []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        named = part.get_param("name") or part.get_param("filename", header="content-disposition")
        if (
            disposition == "attachment"
            or (named and ctype not in ("text/plain", "text/html"))
            or (ctype.startswith("image/") and part.get("Content-ID"))
        ):
            files.append(_file(part, ctype, len(files) + 1))
        elif ctype == "text/plain" and not text:
            text = _content(part)
        elif ctype == "text/html" and not html:
            html = _content(part)
    return text, html, files


def parse(raw: bytes) -> Parsed:
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    bounce = dsn.bounce_of(msg)
    text, html, files = _bodies(msg)
    html = clean_html(html)[:MAX_TEXT] if html else ""
    if not text and html:
        text = text_of(html)
    senders = _addresses(msg, "From")
    message_id = (_ids(_header(msg, "Message-ID")) or [""])[0]
    if not message_id:  # stored once all the same: a name made from the message's own bytes
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"
    return Parsed(
        message_id=message_id,
        in_reply_to=(_ids(_header(msg, "In-Reply-To")) or [""])[0],
        references=_ids(_header(msg, "References"))[-50:],
        from_address=senders[0][1] if senders else "",
        from_name=senders[0][0] if senders else "",
        to=[a for _, a in _addresses(msg, "To")],
        cc=[a for _, a in _addresses(msg, "Cc")],
        subject=_header(msg, "Subject")[:255],
        sent_at=_date(msg),
        text=text.replace("\x00", "")[:MAX_TEXT],
        html=html.replace("\x00", ""),
        attachments=[{"name": f.name, "type": f.type, "size": f.size} for f in files[:MAX_FILES]],
        files=files[:MAX_FILES],
        bounce=bounce,
        calendar=_calendar(msg),
        delivered_to=[a for _, a in _addresses(msg, "Delivered-To") + _addresses(msg, "X-Original-To")],
    )


def subject_key(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes and case, for threading without headers."""
    return " ".join(SUBJECT_PREFIX.sub("", subject or "").split()).casefold()[:255]


def participants_key(addresses: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(addresses)).encode()).hexdigest()
