"""In-app notifications and email, by each user's preferences per kind; the daily digest."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from crm.automation import jobs
from crm.automation.models import Notification, NotificationPreference

log = logging.getLogger("crm.automation")

KINDS = ("reminder", "assignment", "automation", "digest", "system")
# What a user gets before they set a preference: the bell always, email for reminders and digests.
DEFAULTS = {"reminder": (True, True), "digest": (True, True)}


def preference(user, kind: str) -> tuple[bool, bool]:
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    if pref is not None:
        return pref.in_app, pref.email
    return DEFAULTS.get(kind, (True, False))


def notify(user, kind: str, title: str, body: str = "", obj=None, *, email: bool | None = None) -> Notification | None:
    """Tell one user, in the app and/or by email as they prefer; ``email`` overrides the preference."""
    if user is None or not user.is_active:
        return None
    in_app, by_email = preference(user, kind)
    if email is not None:
        by_email = email
    note = None
    if in_app:
        note = Notification.objects.create(
            user=user,
            kind=kind,
            title=title[:255],
            body=body,
            object_type=getattr(obj, "object_type", ""),
            object_id=getattr(obj, "pk", None),
        )
    if by_email and user.email:
        _send(user.email, title, body)
    return note


def _send(to: str, subject: str, body: str) -> None:
    """Through the outbox (crm/mail): a row visible to admins, sent by the worker with retries, kept
    as "not sent" with no mail server configured; written in the caller's transaction."""
    from crm.core.errors import ServiceError
    from crm.mail.outbox import queue_email

    try:
        queue_email(actor=None, to=[to], subject=subject[:200], body_text=body or subject)
    except ServiceError as exc:  # an address the outbox refuses: the in-app notice still stands
        log.warning("Could not email a notification to %s: %s", to, exc.message)


def notify_admins(title: str, body: str = "", obj=None) -> int:
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(profile__role__is_admin=True), is_active=True)
    users = users.exclude(username="automation").distinct()
    return sum(notify(u, "system", title, body, obj, email=True) is not None for u in users)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def set_preference(user, kind: str, *, in_app: bool, email: bool) -> NotificationPreference:
    from crm.core.errors import ValidationFailed

    if kind not in KINDS:
        raise ValidationFailed({"kind": f"Use one of {', '.join(KINDS)}."})
    pref, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"in_app": in_app, "email": email}
    )
    return pref


@jobs.handler("digest.daily")
def daily_digest(job) -> None:
    """Each user with open tasks due today or overdue gets one summary.

    "Today" is the organization's day (TIME_ZONE), the zone the 07:00 schedule runs in, not UTC's:
    at 07:00 in Auckland it is still yesterday in UTC, and UTC's end of day would leave out the
    afternoon's tasks (and in Los Angeles, late in the day, count tomorrow's)."""
    from crm.records.models import Task

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
    end_of_day = dt.datetime.combine(tomorrow, dt.time(), tzinfo=zone)  # local midnight, excluded
    open_tasks = Task.objects.filter(status__in=["open", "in_progress"], due_at__lt=end_of_day, assignee__isnull=False)
    by_user: dict[int, list] = {}
    for task in open_tasks.select_related("assignee").order_by("due_at")[:5000]:
        by_user.setdefault(task.assignee_id, []).append(task)
    for tasks in by_user.values():
        overdue = [t for t in tasks if t.due_at < now]
        lines = [
            f"- {t.title} (due {t.due_at.astimezone(zone):%Y-%m-%d %H:%M}{', overdue' if t in overdue else ''})"
            for t in tasks
        ]
        title = f"{len(tasks)} task(s) due today, {len(overdue)} overdue"
        notify(tasks[0].assignee, "digest", title, "\n".join(lines))


def install_digest_schedule() -> None:
    """The daily digest at 07:00 (TIME_ZONE), created once."""
    from crm.automation.models import Schedule
    from crm.automation.scheduler import next_time

    if not Schedule.objects.filter(key="digest.daily").exists():
        s = Schedule(key="digest.daily", job_kind="digest.daily", cron="0 7 * * *")
        s.next_run_at = next_time(s, timezone.now())
        s.save()
