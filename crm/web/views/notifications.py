"""The bell in the header (unread count) and the notifications page: mine only, newest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.automation import notifications
from crm.automation.models import Notification
from crm.web.views.helpers import safe_next

PAGE_SIZE = 100
CHANGED = "notifications-changed"  # the htmx event the bell listens to, to refresh at once


@require_GET
def bell(request):
    """The header's partial, polled by htmx: one COUNT on the (user, read_at) index."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)  # logged out in another tab: keep the bell, never swap in a login page
    return render(request, "web/parts/bell.html", {"unread": notifications.unread_count(request.user)})


@login_required
@require_GET
def notification_list(request):
    only_unread = request.GET.get("unread") == "1"
    qs = Notification.objects.filter(user=request.user)
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    items = list(qs.order_by("-created_at", "-id")[:PAGE_SIZE])
    unread = notifications.unread_count(request.user)
    context = {"items": items, "unread": unread, "only_unread": only_unread, "page_size": PAGE_SIZE}
    return render(request, "web/notifications.html", context)


@login_required
@require_POST
def mark_all_read(request):
    notifications.mark_read(request.user)
    return _done(request, None)


@login_required
@require_POST
def mark_one_read(request, pk: int):
    # Someone else's notification is as absent as a missing one: 404, and nothing changes.
    note = Notification.objects.filter(user=request.user, pk=pk).first()
    if note is None:
        raise Http404("No such notification.")
    notifications.mark_read(request.user, [pk])
    note.refresh_from_db(fields=["read_at"])
    return _done(request, note)


def _done(request, note: Notification | None) -> HttpResponse:
    if not request.htmx:
        return redirect(safe_next(request, "/notifications/"))
    if note is None:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # every row changed: reload the page
    else:
        response = render(request, "web/parts/notification_item.html", {"n": note})
    response["HX-Trigger"] = CHANGED
    return response
