"""Settings → Mailboxes (/settings/mailboxes/, every signed-in user): connect a mailbox (server,
security, user name, app password, folders, start date, email-to-lead; admins: a shared inbox), and
per mailbox its state (last sync, messages imported, last error) with change, pause/resume, "sync
now" and disconnect. Every write goes through crm.mailbox.services; a refusal is shown on the page.
The imported messages appear on the record pages' timelines as email activities."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from crm.access.policy import policy_for
from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.mailbox import services
from crm.mailbox.models import Security, default_start_date
from crm.web.views.helpers import page_errors


def _date(value: str):
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"start_date": "A date (YYYY-MM-DD)."}) from None


def _port(value: str):
    if not (value or "").strip().isdigit():
        raise ValidationFailed({"port": "A port between 1 and 65535."})
    return int(value)


def _settings(post) -> dict:
    """The form's values as the services take them (blank ones left out of a change)."""
    data = {k: post.get(k, "").strip() for k in ("name", "host", "security", "username") if post.get(k, "").strip()}
    if post.get("port", "").strip():
        data["port"] = _port(post["port"])
    if post.get("password"):
        data["password"] = post["password"]
    if post.get("folders", "").strip():
        data["folders"] = [f.strip() for f in post["folders"].split(",") if f.strip()] or [""]
    if post.get("start_date", "").strip():
        data["start_date"] = _date(post["start_date"])
    data["email_to_lead"] = post.get("email_to_lead") == "on"
    return data


def _post(request) -> str:
    post, user = request.POST, request.user
    action = post.get("action")
    if action == "connect":
        data = _settings(post)
        data["shared"] = post.get("shared") == "on"
        mailbox = services.mailbox_create(actor=user, data=data)
        return f"{mailbox.name} connected. The first sync runs within a few minutes, or now with “Sync now”."
    pk = post.get("id", "")
    mailbox = services.get_visible(user, int(pk) if pk.isdigit() else 0)
    if action == "change":
        services.mailbox_update(mailbox, actor=user, data=_settings(post))
        return f"{mailbox.name} saved."
    if action in ("pause", "resume"):
        services.mailbox_update(mailbox, actor=user, data={"paused": action == "pause"})
        return f"{mailbox.name} {'paused' if action == 'pause' else 'resumed'}."
    if action == "sync":
        services.request_sync(mailbox, actor=user)
        return f"{mailbox.name}: a sync is queued for the worker."
    if action == "delete":
        services.mailbox_delete(mailbox, actor=user)
        return f"{mailbox.name} disconnected. Its messages stay on the timelines."
    raise ServiceError("Unknown action.")


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def mailboxes_page(request):
    errors = []
    if request.method == "POST":
        try:
            messages.success(request, _post(request))
            return redirect(request.path)
        except NotFound:
            raise  # someone else's mailbox: a 404 (page_errors), not a message
        except ServiceError as exc:
            errors = [exc.message, *(f"{k.replace('_', ' ')}: {v}" for k, v in exc.fields.items() if v != exc.message)]
    context = {
        "mailboxes": services.visible(request.user).select_related("owner"),
        "securities": Security.choices,
        "default_start": default_start_date(),
        "is_admin": policy_for(request.user).is_admin,
        "errors": errors,
        "post": request.POST if errors else {},
    }
    return render(request, "mailbox/mailboxes.html", context, status=422 if errors else 200)


app_name = "mailboxes"
urlpatterns = [path("", mailboxes_page, name="page")]
