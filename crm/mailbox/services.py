"""Mailbox writes (validated, logged through configwrites without the password) and who sees which.

A user connects and manages their own mailboxes; a shared inbox (no owner) is connected and managed
by admins, who also see every mailbox. The password is write-only: no read returns it. A new password
resumes a mailbox paused by a refused one."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from crm.access.policy import policy_for
from crm.audit import configwrites
from crm.automation import jobs
from crm.automation.ssrf import host_refusal
from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.mailbox.models import Mailbox, Security

FIELDS = (
    "name",
    "host",
    "port",
    "security",
    "username",
    "password",
    "folders",
    "start_date",
    "email_to_lead",
    "paused",
)
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
MAX_FOLDERS = 50
SYNC_EVERY_MINUTES = 5


def visible(user):
    if policy_for(user).is_admin:
        return Mailbox.objects.all()
    return Mailbox.objects.filter(owner_id=user.pk)


def get_visible(user, pk: int) -> Mailbox:
    found = visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No mailbox with id {pk}.")
    return found


def _check(mailbox: Mailbox) -> None:
    errors = {}
    if not (mailbox.name or "").strip():
        errors["name"] = "Give the mailbox a name."
    if not HOST.match(mailbox.host or ""):
        errors["host"] = "A host name or IP address, such as imap.example.com."
    elif not settings.MAILBOX_ALLOW_PRIVATE and (reason := host_refusal(mailbox.host)):
        errors["host"] = f"{reason} (Set MAILBOX_ALLOW_PRIVATE=true to reach a server on your own network.)"
    if not 1 <= (mailbox.port or 0) <= 65535:
        errors["port"] = "A port between 1 and 65535."
    if mailbox.security not in Security.values:
        errors["security"] = f"One of {', '.join(Security.values)}."
    if not (mailbox.username or "").strip():
        errors["username"] = "The user name the server expects."
    folders = mailbox.folders
    if not isinstance(folders, list) or not 1 <= len(folders) <= MAX_FOLDERS:
        errors["folders"] = f"Choose between 1 and {MAX_FOLDERS} folders."
    elif any(
        not isinstance(f, str) or not f.strip() or len(f) > 200 or any(c in f for c in "\r\n\x00") for f in folders
    ):
        errors["folders"] = "Folder names are text of at most 200 characters, one line each."
    if errors:
        raise ValidationFailed(errors)
    mailbox.folders = list(dict.fromkeys(f.strip() for f in folders))


def install_schedule() -> None:
    """The periodic sync, created with the first mailbox."""
    from django.utils import timezone

    from crm.automation.models import Schedule

    if not Schedule.objects.filter(key="mailbox.sync_due").exists():
        Schedule.objects.create(
            key="mailbox.sync_due",
            job_kind="mailbox.sync_due",
            every_minutes=SYNC_EVERY_MINUTES,
            next_run_at=timezone.now(),
        )


@transaction.atomic
def mailbox_create(*, actor, data: dict) -> Mailbox:
    data = dict(data)
    shared = bool(data.pop("shared", False))
    if shared and not policy_for(actor).is_admin:
        raise PermissionDenied("Only admins connect a shared inbox.")
    if not (data.get("password") or ""):
        raise ValidationFailed({"password": "The mailbox's password (an app password where the provider offers one)."})
    mailbox = Mailbox(owner=None if shared else actor, created_by=actor)
    for name in FIELDS:
        if name in data and data[name] is not None:
            setattr(mailbox, name, data[name])
    configwrites.create(mailbox, actor=actor, check=_check)
    install_schedule()
    return mailbox


def _may_manage(actor, mailbox: Mailbox) -> bool:
    return mailbox.owner_id == actor.pk or policy_for(actor).is_admin


@transaction.atomic
def mailbox_update(mailbox: Mailbox, *, actor, data: dict) -> Mailbox:
    if not _may_manage(actor, mailbox):
        raise PermissionDenied("Only its owner or an admin changes a mailbox.")
    data = {k: v for k, v in data.items() if k in FIELDS and v is not None}
    if "password" in data and not data["password"]:
        del data["password"]  # left empty in a form: keep the stored one
    if "password" in data and "paused" not in data:
        data.update(paused=False)  # a new password is the answer to a refused one
    if data.get("paused") is False:
        data["last_error"] = ""
    return configwrites.update(mailbox, actor=actor, data=data, fields=(*FIELDS, "last_error"), check=_check)


@transaction.atomic
def mailbox_delete(mailbox: Mailbox, *, actor) -> None:
    """Removes the mailbox, its threads and stored messages; the timeline entries stay."""
    if not _may_manage(actor, mailbox):
        raise PermissionDenied("Only its owner or an admin deletes a mailbox.")
    configwrites.delete(mailbox, actor=actor)


def request_sync(mailbox: Mailbox, *, actor):
    """ "Sync now": a job for the worker (a paused mailbox must be resumed first)."""
    if not _may_manage(actor, mailbox):
        raise PermissionDenied("Only its owner or an admin syncs a mailbox.")
    if mailbox.paused:
        raise Conflict("The mailbox is paused: resume it first.")
    return jobs.enqueue("mailbox.sync", {"mailbox": mailbox.pk}, max_attempts=1)


def others_of(user):
    """Mailboxes a user sees but does not own (for admins: the shared inboxes and other users')."""
    return visible(user).filter(~Q(owner_id=user.pk) | Q(owner__isnull=True))
