"""Sign-in lockouts (django-axes keeps the failure counts): listed and lifted by admins, each lift
with a change-log row; and the sign-in log lines (username and IP, never a password).

Axes counts every ``user_login_failed`` signal that carries the request: Django sends one for a
wrong password on any path that calls ``authenticate(request, ...)`` (the web and admin logins),
and a second factor sends its own for a wrong code.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.utils import timezone

from crm.access.models import Account
from crm.access.policy import require_admin
from crm.audit import changelog
from crm.audit.models import Action

log = logging.getLogger("crm.signin")


@dataclass(frozen=True)
class Lockout:
    username: str
    ip_address: str | None
    failures: int
    last_failure: datetime
    until: datetime


@dataclass(frozen=True)
class _UnknownUser:
    """The change log's object for a lockout of a username no account has (someone guessing names)."""

    username: str
    pk: int = 0
    change_log_type = "lockout"

    def __str__(self) -> str:
        return self.username


def username_of(request, credentials=None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username tried, as axes would read it, but storable in any case:
    Django's login form does not limit its length, and PostgreSQL refuses a NUL in text. Cut at the
    longest username a user may have, so the same name always lands on the same record."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    if value is None:
        return None
    return str(value).replace("\0", "")[:USERNAME_MAX]


USERNAME_MAX = 150  # django.contrib.auth's User.username


def lockouts_list(*, actor) -> list[Lockout]:
    """The username and IP pairs refused right now, newest failure first."""
    require_admin(actor, "sign-in lockouts")
    return current()


def current() -> list[Lockout]:
    """Summed per username and IP as axes counts them (it keeps a row per browser too)."""
    cool_off = get_cool_off()
    pairs = (
        AccessAttempt.objects.filter(attempt_time__gt=timezone.now() - cool_off)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    return [
        Lockout(p["username"] or "", p["ip_address"], p["failures"], p["last"], p["last"] + cool_off) for p in pairs
    ]


@transaction.atomic
def lockout_clear(username: str, *, actor) -> int:
    """Forget the failures of ``username`` from every IP (so a locked-out user may sign in again at
    once); returns how many failure records were dropped (0: there was nothing to lift)."""
    require_admin(actor, "sign-in lockouts")
    return _clear(username, actor)


@transaction.atomic
def lockout_clear_by_operator(username: str) -> int:
    """From `crm unlock`: whoever runs a command owns the installation, so there is no actor to check
    (as ``accounts.superuser_create``); the change-log row has no user."""
    return _clear(username, None)


def _clear(username: str, actor) -> int:
    count = AxesProxyHandler.reset_attempts(username=username)
    if count:
        target = Account.objects.filter(username=username).first() or _UnknownUser(username[:150])
        changelog.log_event(actor, target, Action.UPDATE, {"lockout": ["locked", "cleared"]})
        by = actor.get_username() if actor is not None else "operator"
        log.warning("Sign-in lockout cleared: username=%r by=%s records=%s", username, by, count)
    return count


@receiver(user_login_failed, dispatch_uid="crm.access.lockouts.failed")
def log_failure(sender, credentials, request=None, **kwargs):
    # Django's authenticate() masks the password in ``credentials``; only the username is read here.
    username = username_of(request, credentials) if request is not None else (credentials or {}).get("username")
    ip = get_client_ip_address(request) if request is not None else None
    log.warning("Sign-in failed: username=%r ip=%s", username, ip)


@receiver(user_locked_out, dispatch_uid="crm.access.lockouts.locked")
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    log.warning("Sign-in locked out: username=%r ip=%s", username, ip_address)


def minutes_left(username: str | None, ip_address: str | None) -> int:
    """Whole minutes (at least 1) until the pair may try again; the full cool-off when unknown."""
    cool_off = get_cool_off()
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if last is None:
        return max(1, math.ceil(cool_off.total_seconds() / 60))
    return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds() / 60))
