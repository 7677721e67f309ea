"""A meeting's details at /api/v1/meetings/{pk}/details: location, video link, time zone, invited users,
and every attendee's answer (from calendar replies received by a synced mailbox).

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time.
"""

import datetime as dt
from typing import Annotated, Literal

from ninja import Router, Schema
from pydantic import Field, StringConstraints

from crm.api.patterns import NO_NUL
from crm.mail import invitations, meetings

router = Router(tags=["mail"])

UserId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class AttendeeOut(Schema):
    email: str
    name: str
    contact_id: int | None
    user_id: int | None
    status: Literal["NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"]
    answered_at: dt.datetime | None = Field(description="The reply's DTSTAMP")


class MeetingDetailsOut(Schema):
    meeting_id: int
    location: str
    video_url: str
    time_zone: str = Field(description="The zone start and end are given in (IANA name; blank is UTC)")
    start: dt.datetime = Field(description="In the meeting's time zone")
    end: dt.datetime
    user_ids: list[int]
    attendees: list[AttendeeOut] = Field(description="Who the last invitation went to, with their answers")
    invitation_id: int | None = Field(None, description="The outgoing message of the update sent, if asked")


class MeetingDetailsIn(Schema):
    location: Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)] | None = None
    video_url: Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] | None = None
    time_zone: Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)] | None = None
    user_ids: list[UserId] | None = Field(None, max_length=meetings.MAX_USERS, description="Users invited")
    send_update: bool = Field(False, description="Send the attendees an updated invitation (SEQUENCE + 1)")


def _out(meeting, invitation=None) -> dict:
    details = meetings.details_of(meeting)
    tz = meetings.zone(details)
    start = meeting.occurred_at.astimezone(tz or dt.UTC)
    minutes = meeting.duration_minutes or 30
    return {
        "meeting_id": meeting.pk,
        "location": details.location if details else "",
        "video_url": details.video_url if details else "",
        "time_zone": details.time_zone if details else "",
        "start": start,
        "end": start + dt.timedelta(minutes=minutes),
        "user_ids": sorted(u.pk for u in details.users.all()) if details else [],
        "attendees": meetings.answers(meeting),
        "invitation_id": invitation.pk if invitation is not None else None,
    }


@router.get("/meetings/{int:pk}/details", response=MeetingDetailsOut, summary="A meeting's details and answers")
def get_details(request, pk: int):
    return _out(meetings.meeting_for(request.user, pk, "view"))


@router.put(
    "/meetings/{int:pk}/details",
    response=MeetingDetailsOut,
    summary="Set a meeting's location, video link, time zone and invited users (and send the update)",
)
def put_details(request, pk: int, payload: MeetingDetailsIn):
    data = payload.model_dump(exclude={"send_update"})
    email = invitations.update_details(pk, actor=request.user, data=data, send_update=payload.send_update)
    return _out(meetings.meeting_for(request.user, pk, "view"), email)
