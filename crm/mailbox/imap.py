"""The IMAP conversation, with Python's imaplib: connect (TLS, STARTTLS or plain for a local
server), select a folder read-only, search new UIDs since the start date, fetch them in batches
without setting \\Seen (BODY.PEEK[])."""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import ssl

TIMEOUT = 30
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FETCHED_UID = re.compile(rb"UID (\d+)")


class AuthFailed(Exception):
    """The server refused the user name or password: retrying would not help."""


class FolderMissing(Exception):
    """The folder no longer exists on the server (renamed or deleted)."""


def connect(mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.security == "tls":
        conn = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT)
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
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
