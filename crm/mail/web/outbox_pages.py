"""The web outbox (/mail/outbox/): the user's messages (an admin's: everyone's) with their status and
the server's reply, a retry for a failed or unsent one, and for admins "Send what is waiting" once a
mail server is configured. Every action is an outbox service call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.access.policy import policy_for
from crm.core.errors import ServiceError
from crm.mail import outbox, smtp, tracking
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.web.views.helpers import admin_page, page_errors

PAGE = 50
STATUS_LABELS = {
    EmailStatus.QUEUED: "Queued",
    EmailStatus.SENT: "Sent",
    EmailStatus.FAILED: "Failed",
    EmailStatus.NOT_SENT: "Not sent: no mail server configured",
    EmailStatus.SENDING: "Sending",
    EmailStatus.UNKNOWN: "Unknown: check whether it arrived",
}


def shown(user):
    """The outbox page's rows: the user's own messages; an admin's page shows everyone's."""
    if policy_for(user).is_admin:
        return OutgoingEmail.objects.all()
    return OutgoingEmail.objects.filter(sender_id=user.pk)


@login_required
@require_GET
def outbox_page(request):
    status = request.GET.get("status", "")
    rows = shown(request.user).select_related("sender").prefetch_related("attachments").order_by("-id")
    if status in EmailStatus.values:
        rows = rows.filter(status=status)
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    page = list(rows[: PAGE + 1])
    counted = tracking.counts(m.pk for m in page[:PAGE])
    for m in page[:PAGE]:
        m.engagement = counted.get(m.pk, {"open": 0, "click": 0})
    is_admin = policy_for(request.user).is_admin
    context = {
        "rows": page[:PAGE],
        "next": page[PAGE - 1].pk if len(page) > PAGE else None,
        "status": status,
        "statuses": [(s, STATUS_LABELS[s]) for s in EmailStatus.values],
        "labels": STATUS_LABELS,
        "is_admin": is_admin,
        "configured": smtp.configured() is not None,
        "waiting": OutgoingEmail.objects.filter(status=EmailStatus.NOT_SENT).count() if is_admin else 0,
        "not_configured": smtp.NOT_CONFIGURED,
        "proxy_note": tracking.PROXY_NOTE,
    }
    return render(request, "mail/outbox.html", context)


@login_required
@page_errors
@require_POST
def retry(request, pk: int):
    email = shown(request.user).filter(pk=pk).first()
    if email is None:
        email = outbox.get_visible(request.user, pk)  # 404 unless visible; the service refuses others' mail
    try:
        email = outbox.retry(email, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{email.subject}” is {STATUS_LABELS[email.status].lower()}.")
    return redirect(reverse("mail:outbox"))


@admin_page("outgoing mail")  # others: 403
@require_POST
def send_waiting(request):
    try:
        count = outbox.send_waiting(actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{count} waiting message{'s' if count != 1 else ''} queued for sending.")
    return redirect(reverse("mail:outbox"))
