"""Real-shaped calendar replies (METHOD:REPLY) as Outlook and Google Calendar send them, for the Dovecot
fixture: Outlook puts text/calendar in a multipart/alternative with a Windows-named VTIMEZONE; Google
puts it in the alternative and again as an invite.ics attachment (application/ics), with CUTYPE and
X-NUM-GUESTS on the ATTENDEE line."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

ME = "ann@annsales.com"


def _ics(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def outlook_reply(*, uid: str, sender: str, name: str, partstat: str, stamp: dt.datetime, msgid: str) -> bytes:
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    cal = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "METHOD:REPLY",
            "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0",
            "BEGIN:VTIMEZONE",
            "TZID:W. Europe Standard Time",
            "BEGIN:STANDARD",
            "DTSTART:16010101T030000",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010101T020000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            f"ATTENDEE;PARTSTAT={partstat};CN={name}:mailto:{sender}",
            "COMMENT;LANGUAGE=en-US:\\n",
            f"SUMMARY;LANGUAGE=en-US:{word}: Demo",
            "DTSTART;TZID=W. Europe Standard Time:20261210T100000",
            "DTEND;TZID=W. Europe Standard Time:20261210T104500",
            f"UID:{uid}",
            "CLASS:PUBLIC",
            "PRIORITY:5",
            f"DTSTAMP:{_ics(stamp)}",
            "TRANSP:OPAQUE",
            "SEQUENCE:0",
            "LOCATION;LANGUAGE=en-US:Room 4",
            "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
            "X-MICROSOFT-CDO-OWNERAPPTID:0",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = f"Ann Sales <{ME}>"
    msg["Subject"] = f"{word}: Demo"
    msg["Thread-Topic"] = "Demo"
    msg["Date"] = format_datetime(stamp)
    msg["Message-ID"] = msgid
    msg["X-MS-Has-Attach"] = ""
    msg["X-MS-TNEF-Correlator"] = ""
    msg.set_content(f"{word}\n")
    msg.add_alternative(f"<html><body><p>{word}</p></body></html>", subtype="html")
    msg.add_alternative(cal, subtype="calendar", params={"method": "REPLY"})
    return bytes(msg)


def google_reply(*, uid: str, sender: str, partstat: str, stamp: dt.datetime, msgid: str, attendee: str = "") -> bytes:
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    attendee = attendee or sender
    cal = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:REPLY",
            "BEGIN:VEVENT",
            "DTSTART:20261210T090000Z",
            "DTEND:20261210T094500Z",
            f"DTSTAMP:{_ics(stamp)}",
            f"ORGANIZER;CN=Ann Sales:mailto:{ME}",
            f"UID:{uid}",
            f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN={attendee};X-NUM-GUESTS=0:",
            f" mailto:{attendee}",
            "CREATED:20261207T090000Z",
            "LAST-MODIFIED:20261207T090500Z",
            "LOCATION:Room 4",
            "SEQUENCE:0",
            "STATUS:CONFIRMED",
            "SUMMARY:Demo",
            "TRANSP:OPAQUE",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    msg = EmailMessage()
    msg["From"] = f"{attendee.split('@')[0].title()} <{sender}>"
    msg["To"] = ME
    msg["Subject"] = f"Invitation: Demo @ Thu Dec 10, 2026 10am - 10:45am (CET) ({ME}) - {word}"
    msg["Date"] = format_datetime(stamp)
    msg["Message-ID"] = msgid
    msg.set_content(f"{attendee} has {word.lower()} this invitation.\n")
    msg.add_alternative(f"<p>{attendee} has {word.lower()} this invitation.</p>", subtype="html")
    msg.add_alternative(cal, subtype="calendar", params={"method": "REPLY"})
    msg.make_mixed()
    msg.add_attachment(cal.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return bytes(msg)
