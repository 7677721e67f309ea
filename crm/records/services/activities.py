"""Activities (the timeline) and tasks, both linked to any records with a timeline (services/links.py)."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core import clock
from crm.core.errors import ValidationFailed
from crm.records.models import Activity, Contact, Task, TaskStatus
from crm.records.services import common, links

ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "occurred_at",
    "direction",
    "outcome",
    "duration_minutes",
    "owner",
)
TASK_FIELDS = (
    "title",
    "description",
    "due_at",
    "reminder_at",
    "assignee",
    "status",
    "priority",
)


def _participants(data: dict, actor, errors: dict):
    ids = data.pop("participant_ids", None)
    if ids is None:
        return None
    found = list(Contact.objects.restrict(actor).filter(pk__in=[i for i in ids if isinstance(i, int)]))
    missing = set(ids) - {c.pk for c in found}
    if missing:
        errors["participant_ids"] = f"No contacts with ids {sorted(missing, key=str)}."
    return found


# --- activities -----------------------------------------------------------------------------


def _prepare_activity(activity: Activity, data: dict, actor):
    data = dict(data)
    errors: dict[str, str] = {}
    pairs = links.wanted(activity, data, actor, errors)
    participants = _participants(data, actor, errors)
    common.resolve_user(data, "owner", errors)
    common.raise_if(errors)
    return data, participants, pairs


@transaction.atomic
def activity_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Activity, "add", data)
    activity = Activity()
    data, participants, pairs = _prepare_activity(activity, {"owner_id": actor.pk, **data}, actor)
    common.assign(activity, data, ACTIVITY_FIELDS)
    common.apply_custom_fields(activity, data, creating=True)
    common.full_clean(activity)
    common.save_new(activity, actor=actor)
    links.apply(activity, pairs)
    if participants is not None:
        activity.participants.set(participants)
    common.finish_create(activity, actor)
    return common.Saved(activity)


@transaction.atomic
def activity_update(activity: Activity, *, actor, data: dict, version: int | None = None) -> common.Saved:
    activity = common.lock_for_write(activity, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(activity)
    data, participants, pairs = _prepare_activity(activity, data, actor)
    common.assign(activity, data, ACTIVITY_FIELDS)
    common.apply_custom_fields(activity, data, creating=False)
    common.full_clean(activity)
    common.save_existing(activity)
    links.apply(activity, pairs)
    if "occurred_at" in data:
        activity.links.update(**activity.link_values())  # the timeline index follows a moved time
    if participants is not None:
        activity.participants.set(participants)
    common.finish_update(activity, actor, before)
    return common.Saved(activity)


@transaction.atomic
def activity_delete(activity: Activity, *, actor, version: int | None = None) -> None:
    common.delete_record(activity, actor=actor, version=version)


# --- tasks ----------------------------------------------------------------------------------


def _prepare_task(task: Task, data: dict, actor):
    data = dict(data)
    errors: dict[str, str] = {}
    pairs = links.wanted(task, data, actor, errors)
    common.resolve_user(data, "assignee", errors)
    common.raise_if(errors)
    return data, pairs


def _task_rules(task: Task) -> None:
    if task.reminder_at and task.due_at and task.reminder_at > task.due_at:
        raise ValidationFailed({"reminder_at": "The reminder must not be after the due time."})
    done = task.status in (TaskStatus.DONE, TaskStatus.CANCELLED)
    if done and task.completed_at is None:
        task.completed_at = clock.now()
    elif not done:
        task.completed_at = None


@transaction.atomic
def task_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Task, "add", data)
    task = Task(created_by=actor if actor.pk else None)
    data, pairs = _prepare_task(task, {"assignee_id": actor.pk, **data}, actor)
    common.assign(task, data, TASK_FIELDS)
    _task_rules(task)
    common.apply_custom_fields(task, data, creating=True)
    common.full_clean(task)
    common.save_new(task, actor=actor)
    links.apply(task, pairs)
    common.finish_create(task, actor)
    return common.Saved(task)


@transaction.atomic
def task_update(task: Task, *, actor, data: dict, version: int | None = None) -> common.Saved:
    task = common.lock_for_write(task, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(task)
    data, pairs = _prepare_task(task, data, actor)
    common.assign(task, data, TASK_FIELDS)
    _task_rules(task)
    common.apply_custom_fields(task, data, creating=False)
    common.full_clean(task)
    common.save_existing(task)
    links.apply(task, pairs)
    common.finish_update(task, actor, before)
    return common.Saved(task)


def task_complete(task: Task, *, actor, version: int | None = None) -> common.Saved:
    return task_update(task, actor=actor, data={"status": TaskStatus.DONE}, version=version)


@transaction.atomic
def task_delete(task: Task, *, actor, version: int | None = None) -> None:
    common.delete_record(task, actor=actor, version=version)
