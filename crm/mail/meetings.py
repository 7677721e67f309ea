"""A meeting's details beyond the activity: location, video link, the organizer's time zone, the users
invited besides its contacts, and every attendee's answer.

Who may change the meeting sets them (as for its invitation); who may see it reads them. The time zone
defaults to the organizer's (their profile's, else the installation's) the first time details are
saved, so an invitation reads "10:00 Europe/Paris" in every attendee's calendar, daylight saving
included. The attendee list (``MeetingAttendee``) is refreshed from the contacts and users each time an
invitation is sent; answers already received are kept for who is still invited."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from crm.access.models import Profile
from crm.audit import configwrites
from crm.core.errors import NotFound, ValidationFailed
from crm.mail.models import MeetingAttendee, MeetingDetails
from crm.records.models import Activity, Contact
from crm.records.models.activities import ActivityKind

FIELDS = ("location", "video_url", "time_zone")
MAX_USERS = 200


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    contact_id: int | None = None
    user_id: int | None = None


def meeting_for(actor, pk: int, action: str = "view") -> Activity:
    found = Activity.objects.restrict(actor, action).filter(pk=pk, kind=ActivityKind.MEETING).first()
    if found is None:
        raise NotFound(f"No meeting with id {pk}.")
    return found


def zone_name_of(user) -> str:
    name = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() if user else ""
    return name or settings.TIME_ZONE


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The IANA names this system knows: checked against the list, since ZoneInfo("Europe") opens a
    directory (an OSError, not a ValueError) and a name must never reach the file system unchecked."""
    return frozenset(zoneinfo.available_timezones())


def zone(details: MeetingDetails | None) -> zoneinfo.ZoneInfo | None:
    """The meeting's zone; None for UTC (no details, blank, or a name this system no longer knows)."""
    name = details.time_zone if details is not None else ""
    if not name or name.upper() == "UTC" or name not in zone_names():
        return None
    return zoneinfo.ZoneInfo(name)


def details_of(meeting: Activity) -> MeetingDetails | None:
    return MeetingDetails.objects.filter(activity_id=meeting.pk).prefetch_related("users").first()


def details_by_activity(ids) -> dict[int, MeetingDetails]:
    """For the feed: every listed meeting's details in one query."""
    return {d.activity_id: d for d in MeetingDetails.objects.filter(activity_id__in=list(ids))}


def _check(details: MeetingDetails) -> None:
    errors = {}
    name = (details.time_zone or "").strip()
    if name and name.upper() != "UTC" and name not in zone_names():
        errors["time_zone"] = f"{name!r} is not a time zone name such as Europe/Paris."
    url = (details.video_url or "").strip()
    if url and not url.lower().startswith(("https://", "http://")):
        errors["video_url"] = "A web address starting with https://."
    if errors:
        raise ValidationFailed(errors)


def _users(user_ids) -> list:
    ids = list(dict.fromkeys(user_ids))
    if len(ids) > MAX_USERS:
        raise ValidationFailed({"user_ids": f"At most {MAX_USERS} users."})
    found = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed({"user_ids": f"No active user with id {missing[0]}."})
    return [found[i] for i in ids]


@transaction.atomic
def meeting_set_details(pk: int, *, actor, data: dict) -> MeetingDetails:
    """Set location, video link, time zone and invited users (``user_ids``); absent keys stay."""
    meeting = meeting_for(actor, pk, "change")
    users = _users(data["user_ids"]) if data.get("user_ids") is not None else None
    values = {k: (data[k] or "").strip() for k in FIELDS if data.get(k) is not None}
    details = MeetingDetails.objects.select_for_update().filter(activity_id=meeting.pk).first()
    if details is None:
        details = MeetingDetails(activity=meeting, time_zone=zone_name_of(meeting.owner or actor))
        for name, value in values.items():
            setattr(details, name, value)
        configwrites.create(details, actor=actor, check=_check)
    elif values:
        details = configwrites.update(details, actor=actor, data=values, fields=FIELDS, check=_check)
    if users is not None:
        details.users.set(users)
    return details


def invitees(actor, meeting: Activity, details: MeetingDetails | None) -> list[Person]:
    """Who an invitation goes to: the meeting's contacts with an address (those the actor sees) and its
    users, the organizer left out, each address once."""
    contacts = Contact.objects.restrict(actor, "view").filter(pk__in=meeting.participants.values("pk"))
    people = [
        Person(c.email.lower(), f"{c.first_name} {c.last_name}".strip(), contact_id=c.pk)
        for c in contacts.exclude(email="").order_by("pk")
    ]
    if details is not None:
        for u in details.users.filter(is_active=True).exclude(email="").order_by("pk"):
            people.append(Person(u.email.lower(), u.get_full_name() or u.get_username(), user_id=u.pk))
    own = (getattr(actor, "email", "") or "").lower()
    seen, out = {own}, []
    for p in people:
        if p.email not in seen:
            seen.add(p.email)
            out.append(p)
    return out


def record_invitees(meeting: Activity, people: list[Person]) -> dict[str, str]:
    """Refresh the attendee rows to ``people`` (answers kept); {address: answer} for the .ics."""
    rows = {a.email: a for a in MeetingAttendee.objects.select_for_update().filter(activity=meeting)}
    keep = {p.email for p in people}
    MeetingAttendee.objects.filter(activity=meeting).exclude(email__in=keep).delete()
    for p in people:
        row = rows.get(p.email)
        if row is None:
            rows[p.email] = MeetingAttendee.objects.create(
                activity=meeting, email=p.email, name=p.name[:255], contact_id=p.contact_id, user_id=p.user_id
            )
        elif (row.name, row.contact_id, row.user_id) != (p.name[:255], p.contact_id, p.user_id):
            row.name, row.contact_id, row.user_id = p.name[:255], p.contact_id, p.user_id
            row.save(update_fields=["name", "contact", "user"])
    return {e: rows[e].status for e in keep}


def answers(meeting: Activity) -> list[MeetingAttendee]:
    return list(MeetingAttendee.objects.filter(activity=meeting).order_by("pk"))
