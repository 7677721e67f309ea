"""From domain events and dates to rule runs: which rules a change or a due date sets off.

Matching a trigger is cheap and happens in the process that made the change (after its commit);
conditions and actions run later in a worker, as a ``rule.run`` job.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from crm.automation import conditions, jobs
from crm.automation.models import Rule, RuleFiring, RuleRun, RunStatus
from crm.core import events, recordtypes
from crm.customization.models import FieldType
from crm.customization.validation import definitions

log = logging.getLogger("crm.automation")

EVENT_TRIGGERS = {
    "record.created": ("created",),
    "record.updated": ("updated", "field_changed"),
    "deal.stage_changed": ("stage_changed",),
    "deal.won": ("won",),
    "deal.lost": ("lost",),
    "form.submitted": ("form_submitted",),
    "quote.accepted": ("quote_accepted",),  # crm/quotes/services/acceptance.py
}
DATE_TRIGGERS = ("date", "task_overdue")
TRIGGER_TYPES = (*sorted({t for ts in EVENT_TRIGGERS.values() for t in ts}), *DATE_TRIGGERS, "schedule")
BATCH = 200


def trigger_matches(rule: Rule, event) -> bool:
    opts = rule.trigger or {}
    if rule.trigger_type == "field_changed":
        return conditions.changed(opts.get("field", ""), opts, event.changes, rule.object_type)
    if rule.trigger_type == "stage_changed":
        before, after = (event.changes.get("stage_id") or [None, None])[:2]
        if opts.get("to_stage_id") and opts["to_stage_id"] != after:
            return False
        if opts.get("from_stage_id") and opts["from_stage_id"] != before:
            return False
        if opts.get("to_stage"):
            from crm.records.models import Stage

            return Stage.objects.filter(pk=after, name__iexact=opts["to_stage"]).exists()
        return True
    if rule.trigger_type == "form_submitted":
        return not opts.get("form") or opts["form"] == event.changes.get("form")
    return True


def on_event(event) -> None:
    """Subscriber to crm.core.events: one ``rule.run`` job per matching rule."""
    types = EVENT_TRIGGERS.get(event.type)
    if not types:
        return
    rules = events.cached(
        ("rules", event.object_type, tuple(types)),
        lambda: list(Rule.objects.filter(enabled=True, object_type=event.object_type, trigger_type__in=types)),
    )
    for rule in rules:
        if not trigger_matches(rule, event):
            continue
        if event.depth >= settings.AUTOMATION_MAX_DEPTH:
            RuleRun.objects.create(
                rule=rule,
                object_type=event.object_type,
                object_id=event.object_id,
                trigger=event.type,
                depth=event.depth,
                status=RunStatus.BLOCKED,
                error=f"Loop protection: this change is {event.depth} automated steps deep "
                f"(limit {settings.AUTOMATION_MAX_DEPTH}); the rule did not run.",
            )
            continue
        start(rule, event.object_id, trigger=event.type, changes=event.changes, depth=event.depth)


def start(rule: Rule, object_id: int, *, trigger: str, changes: dict | None = None, depth: int = 0, key=None):
    payload = {
        "rule_id": rule.pk,
        "object_type": rule.object_type,
        "object_id": object_id,
        "trigger": trigger,
        "changes": changes,
        "depth": depth,
    }
    return jobs.enqueue("rule.run", payload, key=key)


# --- date-relative rules and overdue tasks, from the scheduler tick --------------------------------


def date_spec(rule: Rule) -> tuple[str, dt.timedelta]:
    opts = rule.trigger or {}
    if rule.trigger_type == "task_overdue":
        return "due_at", dt.timedelta(0)
    offset = dt.timedelta(days=opts.get("offset_days", 0) or 0, hours=opts.get("offset_hours", 0) or 0)
    return opts.get("field", ""), offset


def date_fields(object_type: str) -> dict[str, tuple[models.Expression, bool]]:
    """The fields a date rule may name: name -> (the value as a date or datetime, whether a datetime).
    The model's date columns, and the custom date fields: ``cf_<key>`` on a declared type, the key on a
    custom object type (as its filters name them), read from the JSON and cast to a date."""
    rt = recordtypes.by_type(object_type)
    found = {
        f.name: (models.F(f.name), isinstance(f, models.DateTimeField))
        for f in rt.model._meta.concrete_fields
        if isinstance(f, models.DateField)
    }
    prefix = "" if rt.run_time else "cf_"
    for key, field in definitions(object_type).items():
        if field.field_type in (FieldType.DATE, FieldType.DATETIME):
            is_datetime = field.field_type == FieldType.DATETIME
            out = models.DateTimeField() if is_datetime else models.DateField()
            found[f"{prefix}{key}"] = (Cast(KeyTextTransform(key, "custom_fields"), out), is_datetime)
    return found


def _bound(is_datetime: bool, moment: dt.datetime):
    """The value of a date or datetime field that corresponds to ``moment`` (dates in TIME_ZONE)."""
    if is_datetime:
        return moment
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def fire_date_rules(now) -> int:
    """Fire each date rule once per record and date value, between the rule's creation and now."""
    fired = 0
    for rule in Rule.objects.filter(enabled=True, trigger_type__in=DATE_TRIGGERS):
        try:
            fired += _fire_date_rule(rule, now)
        except Exception:
            log.exception("Date rule %s could not be evaluated", rule.pk)
    return fired


def _fire_date_rule(rule: Rule, now) -> int:
    field_name, offset = date_spec(rule)
    expression, is_datetime = date_fields(rule.object_type)[field_name]
    value_col = "value_at" if is_datetime else "value_date"
    done = RuleFiring.objects.filter(rule=rule, object_id=models.OuterRef("pk"), **{value_col: models.OuterRef("_due")})
    # The record's date plus the offset is the fire time: due when it is past, and after the rule existed.
    qs = (
        conditions.records_of(rule.object_type)
        .annotate(_due=expression)
        .filter(_due__lte=_bound(is_datetime, now - offset), _due__gte=_bound(is_datetime, rule.created_at - offset))
        .exclude(models.Exists(done))
    )
    if rule.trigger_type == "task_overdue":
        qs = qs.filter(status__in=["open", "in_progress"])
    fired = 0
    for obj_id, value in qs.order_by("_due", "pk").values_list("pk", "_due")[:BATCH]:
        key = value.isoformat()
        try:
            with transaction.atomic():
                RuleFiring.objects.create(rule=rule, object_id=obj_id, fire_key=key, **{value_col: value})
                start(rule, obj_id, trigger=rule.trigger_type, key=f"rule:{rule.pk}:date:{obj_id}:{key}")
            fired += 1
        except IntegrityError:  # another worker fired it
            continue
    return fired


# --- recurring rules: a Schedule fires a sweep over the records that match the conditions ----------


@jobs.handler("rule.sweep")
def sweep(job) -> None:
    from crm.automation.system import automation_user

    rule = Rule.objects.filter(pk=job.payload["rule_id"], enabled=True).first()
    if rule is None:
        return
    qs = conditions.records_of(rule.object_type).restrict(automation_user(), "view")
    qs = qs.filter(conditions.to_q(rule.object_type, rule.conditions))
    due = job.payload.get("due_at", "")
    for obj_id in qs.order_by("pk").values_list("pk", flat=True)[:1000]:
        start(rule, obj_id, trigger="schedule", key=f"rule:{rule.pk}:sweep:{due}:{obj_id}")
