"""The IMAP conversation, with Python's imaplib: connect (TLS, STARTTLS or plain for a local
server), select a folder read-only, search new UIDs since the start date, fetch them in batches
without setting \\Seen (BODY.PEEK[])."""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import socket
import ssl

from django.conf import settings

from crm.automation.ssrf import checked_address

TIMEOUT = 30
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FETCHED_UID = re.compile(rb"UID (\d+)")


class AuthFailed(Exception):
    """The server refused the user name or password: retrying would not help."""


class FolderMissing(Exception):
    """The folder no longer exists on the server (renamed or deleted)."""


class Pinned:
    """Connect to the address the SSRF check approved (a second DNS answer cannot redirect the
    connection), while TLS still verifies the certificate against the host name."""

    address: str

    def _create_socket(self, timeout):
        return socket.create_connection((self.address, self.port), timeout)


class PinnedIMAP4(Pinned, imaplib.IMAP4):
    def __init__(self, address, host, port, timeout):
        self.address = address
        super().__init__(host, port, timeout=timeout)


class PinnedIMAP4SSL(Pinned, imaplib.IMAP4_SSL):
    def __init__(self, address, host, port, ssl_context, timeout):
        self.address = address
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(Pinned._create_socket(self, timeout), server_hostname=self.host)


def connect(mailbox) -> imaplib.IMAP4:
    """Raises Refused when the host is not a public address (unless MAILBOX_ALLOW_PRIVATE)."""
    address = checked_address(mailbox.host, mailbox.port, allow_private=settings.MAILBOX_ALLOW_PRIVATE)
    context = ssl.create_default_context()
    if mailbox.security == "tls":
        conn = PinnedIMAP4SSL(address, mailbox.host, mailbox.port, context, TIMEOUT)
    else:
        conn = PinnedIMAP4(address, mailbox.host, mailbox.port, TIMEOUT)
        if mailbox.security == "starttls":
            conn.starttls(context)
    try:
        conn.login(mailbox.username, mailbox.password or "")
    except imaplib.IMAP4.error as exc:
        close(conn)
        # The server's words only (never the password): "[AUTHENTICATIONFAILED] Authentication failed."
        raise AuthFailed(str(exc)[:300]) from None
    return conn


def close(conn) -> None:
    try:
        conn.logout()
    except Exception:  # already dropped: nothing to tidy
        pass


def quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def select(conn, folder: str) -> int:
    """Select ``folder`` read-only; its UIDVALIDITY."""
    typ, data = conn.select(quoted(folder), readonly=True)
    if typ != "OK":
        raise FolderMissing(folder)
    _, values = conn.response("UIDVALIDITY")
    return int(values[0]) if values and values[0] else 0


def imap_date(day: dt.date) -> str:
    return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}"  # English month names, whatever the locale


def new_uids(conn, after_uid: int, since: dt.date) -> list[int]:
    """UIDs above ``after_uid`` of messages received since ``since`` (never the whole folder)."""
    typ, data = conn.uid("SEARCH", None, f"UID {after_uid + 1}:*", "SINCE", imap_date(since))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"SEARCH refused: {data!r}")
    # "n:*" always matches the highest UID, even one below n: only the really new ones are kept.
    return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > after_uid)


def fetch(conn, uids: list[int]) -> list[tuple[int, bytes]]:
    typ, data = conn.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH refused: {data!r}")
    out = []
    for item in data:
        if isinstance(item, tuple) and (found := FETCHED_UID.search(item[0])):
            out.append((int(found.group(1)), item[1]))
    return sorted(out)
