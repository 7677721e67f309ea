"""Real-shaped messages for the Dovecot fixture: a Gmail-style thread of three, an Outlook-style reply
(In-Reply-To / References), an ISO-8859-1 message, an HTML-only mail with a script, one with an
attachment, and one from nobody the CRM knows."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

ME = "ann@annsales.com"


def message(
    *,
    msgid: str,
    sender: str,
    to: list[str],
    subject: str,
    when: dt.datetime,
    text: str | None = "Hello",
    html: str | None = None,
    cc: list[str] = (),
    in_reply_to: str = "",
    references: str = "",
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msgid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    if attachment:
        msg.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return bytes(msg)


def latin1(*, msgid: str, sender: str, to: str, when: dt.datetime) -> bytes:
    """Hand-made, as old clients send it: 8-bit ISO-8859-1 body and an encoded-word subject."""
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n"
        f"Date: {format_datetime(when)}\r\nMessage-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + "Un café crème, s'il vous plaît.\r\n".encode("latin-1")


def broken_charset(*, msgid: str, sender: str, to: str, when: dt.datetime) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Broken charset\r\nDate: {format_datetime(when)}\r\n"
        f"Message-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + "Gr\xfc\xdfe \xff\r\n".encode("latin-1")


def world(now: dt.datetime) -> list[bytes]:
    """The standard mailbox: every message below is recent (within the default 30 days)."""
    day = dt.timedelta(days=1)
    t1, t2, t3 = now - 5 * day, now - 4 * day, now - 3 * day
    return [
        message(
            msgid="<t1@mail.gmail.com>",
            sender="Carl Client <carl@clientco.com>",
            to=[ME],
            subject="Pricing for 2027",
            when=t1,
            text="Could you send prices?",
        ),
        message(
            msgid="<t2@annsales.com>",
            sender=f"Ann <{ME}>",
            to=["carl@clientco.com"],
            subject="Re: Pricing for 2027",
            when=t2,
            text="Here they are.",
            in_reply_to="<t1@mail.gmail.com>",
            references="<t1@mail.gmail.com>",
        ),
        message(
            msgid="<t3@outlook.com>",
            sender="carl@clientco.com",
            to=[ME],
            cc=["dora@clientco.com"],
            subject="RE: Pricing for 2027",
            when=t3,
            text="Thanks!",
            html="<p>Thanks!</p>",
            in_reply_to="<t2@annsales.com>",
            references="<t1@mail.gmail.com> <t2@annsales.com>",
        ),
        latin1(msgid="<latin@clientco.com>", sender="dora@clientco.com", to=ME, when=t2),
        message(
            msgid="<html@clientco.com>",
            sender="dora@clientco.com",
            to=[ME],
            subject="HTML only",
            when=t3,
            text=None,
            html='<p onclick="x()">Hi <b>there</b><script>alert(1)</script><a href="javascript:alert(2)">x</a></p>',
        ),
        message(
            msgid="<att@clientco.com>",
            sender="carl@clientco.com",
            to=[ME],
            subject="The contract",
            when=t3,
            text="Attached.",
            attachment=("contract.pdf", b"%PDF-1.4 " + b"x" * 5000),
        ),
        message(
            msgid="<stranger@elsewhere.org>",
            sender="Sam Stranger <sam@elsewhere.org>",
            to=[ME],
            subject="Hello there",
            when=t3,
            text="Who are you?",
        ),
    ]


def inline_image(*, msgid: str, sender: str, to: str, when: dt.datetime, png: bytes) -> bytes:
    """An HTML mail with its logo as a related part, referenced by cid: (as Outlook and Apple Mail send)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "With our logo"
    msg["Date"], msg["Message-ID"] = format_datetime(when), msgid
    msg.set_content("Our logo is below.")
    msg.add_alternative('<p>Our logo:</p><img src="cid:logo@clientco.com" alt="logo">', subtype="html")
    msg.get_payload()[1].add_related(png, maintype="image", subtype="png", cid="<logo@clientco.com>")
    return bytes(msg)


def dsn(*, msgid: str, failed: str, original_id: str, when: dt.datetime, action: str = "failed", to: str = ME) -> bytes:
    """A delivery status notice as Postfix writes it: the report, then the returned message's headers."""
    boundary = "=_dsn_boundary"
    return (
        f"From: MAILER-DAEMON@mx.annsales.com (Mail Delivery System)\r\nTo: {to}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(when)}\r\n"
        f"Message-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {failed}.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.annsales.com\r\nArrival-Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\nAction: {action}\r\n"
        "Status: 5.1.1\r\nRemote-MTA: dns; mx.clientco.com\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Ann <{ME}>\r\nTo: {failed}\r\nSubject: Our offer\r\nMessage-ID: {original_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")
