"""A meeting's page (/mail/meetings/<pk>/): its location, video link, time zone and attendees (contacts
and users, with completion), each attendee's answer, and "Send invitation" / "Send update" / "Cancel
meeting". The same services as the API (crm/mail/meetings.py, invitations.py; meeting_api.py):
who may see the meeting reads the page, who may change it gets the form and buttons (others: 403 on a
POST), anyone else a 404. A refusal is shown beside its field (422) and nothing is saved."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm.core.errors import ServiceError, ValidationFailed
from crm.mail import invitations, meetings
from crm.mail.models import MeetingInvitation
from crm.records.models import Activity, Contact
from crm.records.services.activities import activity_update
from crm.web.views.helpers import page_errors

LIMIT = 10


def _ids(post, name: str) -> list[int]:
    raw = post.getlist(name)
    if any(not str(v).isdigit() for v in raw):
        raise ValidationFailed({name: "Choose from the list."})
    return list(dict.fromkeys(int(v) for v in raw))


def _save(request, meeting: Activity, *, send_update: bool):
    post = request.POST
    wanted = _ids(post, "participant_ids")
    data = {k: post.get(k, "") for k in meetings.FIELDS}
    data["user_ids"] = _ids(post, "user_ids")
    with transaction.atomic():  # the contacts and the details together, or neither
        seen = Contact.objects.restrict(request.user).filter(participated_in=meeting)
        visible = set(seen.values_list("pk", flat=True))
        if set(wanted) != visible:
            hidden = meeting.participants.exclude(pk__in=visible).values_list("pk", flat=True)
            activity_update(meeting, actor=request.user, data={"participant_ids": [*wanted, *hidden]})
        email = invitations.update_details(meeting.pk, actor=request.user, data=data, send_update=send_update)
    if email is not None:
        return f"Saved, and the update is queued to {', '.join(email.to)} (see the outbox)."
    return "The meeting's details are saved. Nobody was told: send an invitation or an update when ready."


def _invite(request, meeting: Activity, *, cancel: bool):
    email = invitations.send_invitation(meeting.pk, actor=request.user, cancel=cancel)
    what = "The cancellation" if cancel else "The invitation"
    return f"{what} is queued to {', '.join(email.to)} (see the outbox)."


ACTIONS = {
    "save": lambda r, m: _save(r, m, send_update=False),
    "update": lambda r, m: _save(r, m, send_update=True),
    "invite": lambda r, m: _invite(r, m, cancel=False),
    "cancel": lambda r, m: _invite(r, m, cancel=True),
}


def _may_change(user, meeting: Activity) -> bool:
    return Activity.objects.restrict(user, "change").filter(pk=meeting.pk).exists()


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def meeting_page(request, pk: int):
    meeting = meetings.meeting_for(request.user, pk, "view")  # NotFound -> 404
    may_change = _may_change(request.user, meeting)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("You may not change this meeting.")
        action = ACTIONS.get(request.POST.get("action", ""))
        try:
            if action is None:
                raise ValidationFailed({"action": "Unknown action."})
            done = action(request, meeting)
        except ServiceError as exc:
            errors = dict(exc.fields) or {"general": exc.message}
        else:
            messages.success(request, done)
            return redirect("mail:meeting", pk=pk)
        meeting = meetings.meeting_for(request.user, pk, "view")
    context = _context(request, meeting, may_change, errors)
    return render(request, "mail/meeting.html", context, status=422 if errors else 200)


def _context(request, meeting: Activity, may_change: bool, errors: dict) -> dict:
    details = meetings.details_of(meeting)
    posted = request.POST if errors else None
    values = {k: (posted.get(k, "") if posted else getattr(details, k, "") if details else "") for k in meetings.FIELDS}
    if not details and not posted:
        values["time_zone"] = meetings.zone_name_of(meeting.owner or request.user)
    last = MeetingInvitation.objects.filter(activity_id=meeting.pk).order_by("-sequence").first()
    tz = meetings.zone(details)
    return {
        "meeting": meeting,
        "may_change": may_change,
        "errors": errors,
        "values": values,
        "contacts": list(Contact.objects.restrict(request.user).filter(participated_in=meeting).order_by("name")),
        "users": list(details.users.order_by("username")) if details else [],
        "attendees": meetings.answers(meeting),
        "last_invitation": last,
        "invitation_out": last is not None and last.method == invitations.REQUEST,
        "start": meeting.occurred_at.astimezone(tz) if tz else meeting.occurred_at,
        "zone_label": values["time_zone"] or "UTC",
        "zone_names": sorted(meetings.zone_names()),
        "general": [e for k, e in errors.items() if k not in ("location", "video_url", "time_zone", "user_ids")],
    }


@login_required
@require_GET
def people(request):
    """htmx: contacts the user sees (with an address) and active users matching what is typed, as
    checkboxes to tick into the attendee list."""
    q = request.GET.get("q", "").strip()
    contacts, users = [], []
    if len(q) >= 2:
        contacts = list(
            Contact.objects.restrict(request.user)
            .filter(Q(name__icontains=q) | Q(email__istartswith=q))
            .exclude(email="")
            .order_by("name")[:LIMIT]
        )
        found = get_user_model().objects.filter(is_active=True).exclude(email="")
        match = Q(username__istartswith=q) | Q(first_name__istartswith=q) | Q(last_name__istartswith=q)
        users = list(found.filter(match | Q(email__istartswith=q)).order_by("username")[:LIMIT])
    return render(request, "mail/parts/meeting_people.html", {"contacts": contacts, "users": users, "q": q})
