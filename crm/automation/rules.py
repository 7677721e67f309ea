"""Creating and changing rules (admins only): validation, and the schedule of recurring rules."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.access.policy import policy_for
from crm.automation import actions, conditions, triggers
from crm.automation.models import Rule, Schedule
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed

FIELDS = ("name", "description", "enabled", "object_type", "trigger_type", "trigger", "conditions", "actions")


def require_admin(user) -> None:
    if not policy_for(user).is_admin:
        raise PermissionDenied("Only admins may manage automation.")


def get_rule(user, pk: int) -> Rule:
    require_admin(user)
    rule = Rule.objects.filter(pk=pk).first()
    if rule is None:
        raise NotFound(f"No rule with id {pk}.")
    return rule


def _validate(rule: Rule) -> None:
    errors = {}
    if not (rule.name or "").strip():
        errors["name"] = "A rule needs a name."
    if rule.object_type not in conditions.models_by_type():
        errors["object_type"] = f"Use one of {', '.join(conditions.models_by_type())}."
    if rule.trigger_type not in triggers.TRIGGER_TYPES:
        errors["trigger_type"] = f"Use one of {', '.join(triggers.TRIGGER_TYPES)}."
    if errors:
        raise ValidationFailed(errors)
    errors.update(_trigger_errors(rule))
    if errors:
        raise ValidationFailed(errors)
    conditions.validate(rule.object_type, rule.conditions)
    actions.validate(rule.object_type, rule.actions)


def _trigger_errors(rule: Rule) -> dict:
    opts = rule.trigger or {}
    kind = rule.trigger_type
    if kind in ("stage_changed", "won", "lost") and rule.object_type != "deal":
        return {"trigger_type": "Stage triggers are for deals."}
    if kind == "task_overdue" and rule.object_type != "task":
        return {"trigger_type": "task_overdue is for tasks."}
    if kind == "form_submitted" and rule.object_type != "lead":
        return {"trigger_type": "Web forms create leads."}
    if kind == "field_changed" and not opts.get("field"):
        return {"trigger.field": "Say which field."}
    if kind == "date":
        names = set(triggers.date_fields(rule.object_type))
        if opts.get("field") not in names:
            return {"trigger.field": f"A date field of {rule.object_type}: {', '.join(sorted(names))}."}
        for key in ("offset_days", "offset_hours"):
            if not isinstance(opts.get(key, 0), int | float):
                return {f"trigger.{key}": "Must be a number."}
    if kind == "schedule":
        return _schedule_errors(opts)
    return {}


def _schedule_errors(opts: dict) -> dict:
    if opts.get("cron"):
        from croniter import croniter

        return {} if croniter.is_valid(opts["cron"]) else {"trigger.cron": "Not a valid cron expression."}
    every = opts.get("every_minutes")
    if not isinstance(every, int) or every < 1:
        return {"trigger": 'Give "cron" (e.g. "0 9 * * 1") or "every_minutes" (at least 1).'}
    return {}


def _sync_schedule(rule: Rule) -> None:
    from crm.automation.scheduler import next_time

    key = f"rule:{rule.pk}"
    if rule.trigger_type != "schedule":
        Schedule.objects.filter(key=key).delete()
        return
    opts = rule.trigger or {}
    schedule = Schedule.objects.filter(key=key).first() or Schedule(key=key, job_kind="rule.sweep")
    schedule.payload = {"rule_id": rule.pk}
    schedule.cron = opts.get("cron") or ""
    schedule.every_minutes = None if schedule.cron else opts.get("every_minutes")
    schedule.enabled = rule.enabled
    schedule.next_run_at = next_time(schedule, timezone.now())
    schedule.save()


@transaction.atomic
def rule_create(*, actor, data: dict) -> Rule:
    require_admin(actor)
    rule = Rule(owner=actor)
    for name in FIELDS:
        if name in data and data[name] is not None:
            setattr(rule, name, data[name])
    _validate(rule)
    rule.save()
    _sync_schedule(rule)
    return rule


@transaction.atomic
def rule_update(rule: Rule, *, actor, data: dict) -> Rule:
    require_admin(actor)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    for name in FIELDS:
        if name in data and data[name] is not None:
            setattr(rule, name, data[name])
    _validate(rule)
    rule.updated_at = timezone.now()
    rule.save()
    _sync_schedule(rule)
    return rule


@transaction.atomic
def rule_delete(rule: Rule, *, actor) -> None:
    require_admin(actor)
    Schedule.objects.filter(key=f"rule:{rule.pk}").delete()
    rule.delete()
