"""The tracking endpoints (no login; crm/mail/tracking.py says what they record and why they leak
nothing) and the user's tracking setting (/mail/tracking/)."""

from __future__ import annotations

import ipaddress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm.core.clientip import client_ip
from crm.core.errors import NotFound, ServiceError
from crm.mail import tracking
from crm.mail.models import Tracking


def _client(request) -> dict:
    ip = client_ip(request)
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        ip = None
    return {"ip": ip, "user_agent": request.META.get("HTTP_USER_AGENT", "")}


def _no_cache(response: HttpResponse) -> HttpResponse:
    # Every fetch must reach us to count; and the target of a click never learns the tracking URL.
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def open_pixel(request, token: str):
    """The same GIF whatever the token (a wrong one learns nothing); an open is recorded for a real one."""
    tracking.record_open(token, **_client(request))
    return _no_cache(HttpResponse(tracking.PIXEL, content_type="image/gif"))


@require_GET
def click(request, value: str):
    try:
        target = tracking.record_click(value, **_client(request))
    except NotFound:
        raise Http404("No such link.") from None
    return _no_cache(HttpResponseRedirect(target))


@login_required
@require_http_methods(["GET", "POST"])
def preference_page(request):
    error = ""
    if request.method == "POST":
        try:
            tracking.set_preference(actor=request.user, tracking=request.POST.get("tracking", ""))
        except ServiceError as exc:
            error = " ".join(exc.fields.values()) or exc.message
        else:
            messages.success(request, "Your tracking setting is saved. It applies to messages you send from now on.")
            return redirect("mail:tracking")
    context = {
        "current": tracking.preference(request.user),
        "choices": Tracking.choices,
        "note": tracking.PROXY_NOTE,
        "error": error,
    }
    return render(request, "mail/tracking.html", context, status=422 if error else 200)
