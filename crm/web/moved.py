"""Records taken from the user who had them (an assignment rule, a manager's reassignment).

A record page the user can no longer open answers 404 as always, but when the change log shows the
record was theirs, the page says it was assigned to someone else (and, when a rule moved it, the
notice the rule left: "Lead X was assigned to Y by rule Z"), never the record's fields. A record the
user never owned stays a bare 404, so nothing about other people's records leaks.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.automation.models import Notification
from crm.core import recordtypes

RECENT_CHANGES = 200  # how far back the log is read for an owner change (newest first)


def was_owner(user, rt, pk: int) -> bool:
    """Whether an update in the record's change log moved it away from ``user``."""
    key = f"{rt.owner_field}_id"
    rows = ObjectChange.objects.filter(object_type=rt.object_type, object_id=pk, action="update")
    for changes in rows.order_by("-time", "-id").values_list("changes", flat=True)[:RECENT_CHANGES]:
        pair = (changes or {}).get(key)
        if isinstance(pair, list) and len(pair) == 2 and pair[0] == user.pk and pair[1] != user.pk:
            return True
    return False


def notice(user, object_type: str, pk: int) -> str:
    """The newest notification the user got about the record being moved (from a rule), or ""."""
    rows = Notification.objects.filter(user=user, kind="assignment", object_type=object_type, object_id=pk)
    return (
        rows.filter(title__contains=" was assigned to ")
        .order_by("-created_at", "-id")
        .values_list("title", flat=True)
        .first()
        or ""
    )


def moved_page(request, object_type: str, pk) -> object | None:
    """The 404 page that explains a record moved away from the user; None for any other 404."""
    rt = recordtypes.by_type(object_type)
    user = request.user
    if rt is None or not user.is_authenticated or not isinstance(pk, int):
        return None
    if not rt.objects().filter(pk=pk).exists() or not was_owner(user, rt, pk):
        return None
    context = {"what": rt.singular, "notice": notice(user, object_type, pk)}
    response = render(request, "web/moved.html", context, status=404)
    response["X-Record-Moved"] = "1"  # app.js: an htmx request's toast says so too
    return response


def tell_on_page(request, obj) -> None:
    """Unread notices about this record being assigned (to the user, or away from them) shown once
    as messages on its page, and marked read."""
    rows = Notification.objects.filter(
        user=request.user, kind="assignment", object_type=obj.object_type, object_id=obj.pk, read_at__isnull=True
    )
    titles = list(rows.order_by("created_at", "id").values_list("title", flat=True)[:5])
    for title in titles:
        messages.info(request, title)
    if titles:
        rows.update(read_at=timezone.now())
