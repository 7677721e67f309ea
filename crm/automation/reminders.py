"""Task reminders fire at ``reminder_at``, once each, even with several workers and after downtime."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from crm.automation.models import TaskReminder
from crm.automation.notifications import notify

CATCH_UP = timedelta(days=7)  # after a long outage, older reminders are stale news
BATCH = 200


def due_tasks(now):
    from crm.records.models import Task

    fired = TaskReminder.objects.filter(task=OuterRef("pk"), reminder_at=OuterRef("reminder_at"))
    return (
        Task.objects.filter(
            status__in=["open", "in_progress"],
            reminder_at__lte=now,
            reminder_at__gte=now - CATCH_UP,
            assignee__isnull=False,
        )
        .exclude(Exists(fired))
        .select_related("assignee")
        .order_by("reminder_at", "id")
    )


def fire_due(now) -> int:
    fired = 0
    for task in due_tasks(now)[:BATCH]:
        try:
            with transaction.atomic():
                TaskReminder.objects.create(task=task, reminder_at=task.reminder_at, fired_at=now)
                due = f" (due {task.due_at:%Y-%m-%d %H:%M})" if task.due_at else ""
                notify(task.assignee, "reminder", f"Reminder: {task.title}", f"{task.title}{due}", task)
            fired += 1
        except IntegrityError:  # another worker fired it first
            continue
    return fired
