"""The calendar feed's settings page (make, replace or revoke the secret URL), the feed itself,
/calendar/feed/<token>.ics, which needs no sign-in: the token is the credential (crm/web/feeds.py), and
a meeting's "Send invitation" from the calendar."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.core.errors import NotFound, ServiceError
from crm.mail import invitations
from crm.web import feeds
from crm.web.views import calendar as calendar_views

JUST_MADE = "calendar_feed_just_made"  # the session key holding a new raw token until its page is shown


@login_required
@require_GET
def settings_page(request):
    """A new address is shown on the first page after it was made, then only its prefix: the raw token
    waits in the (server-side) session for that one page, so a reload cannot make yet another feed."""
    raw = request.session.pop(JUST_MADE, "")
    url = request.build_absolute_uri(reverse("web:calendar-feed", args=[raw])) if raw else ""
    context = {"feed": feeds.feed_of(request.user), "url": url, "past": feeds.WINDOW_PAST, "ahead": feeds.WINDOW_AHEAD}
    return render(request, "web/calendar_feed.html", context)


@login_required
@require_POST
def create(request):
    _feed, raw = feeds.feed_create(actor=request.user)
    request.session[JUST_MADE] = raw
    return redirect("web:calendar-feed-settings")


@login_required
@require_POST
def revoke(request):
    if feeds.feed_revoke(actor=request.user):
        messages.success(request, "Your calendar feed was revoked: calendars subscribed to it stop updating.")
    return redirect("web:calendar-feed-settings")


@require_GET
def feed(request, token: str):
    """A malformed, unknown or revoked token is a 404 alike: nothing tells a guesser which it was."""
    user = feeds.user_for(token)
    if user is None:
        raise Http404("No such calendar feed.")
    body = feeds.feed_ics(user, f"{request.scheme}://{request.get_host()}")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return response


@login_required
@require_POST
def invite(request, pk: int):
    """The calendar item's "Send invitation" / "Send cancellation": through the invitation service
    (crm/mail/invitations.py), back to the calendar with what happened."""
    cancel = request.POST.get("cancel") == "1"
    try:
        email = invitations.send_invitation(pk, actor=request.user, cancel=cancel)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except ServiceError as exc:
        messages.error(request, calendar_views._message(exc))
        return redirect(calendar_views._back(request))
    what = "Cancellation" if cancel else "Invitation"
    messages.success(request, f"{what} queued to {', '.join(email.to)} (see the outbox).")
    return redirect(calendar_views._back(request))
