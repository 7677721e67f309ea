"""Retention policies: per record type, delete or anonymize what has been untouched (or exists) for
longer than a number of months, optionally only those in one status (a lead "disqualified", a deal
"lost", a quote "expired": a value of the type's status field, ``status_field``). The scheduler runs
them daily (job ``privacy.retention``); the dry-run report says first what a run would do.

Deleting goes through ``erasure.forget`` (the records, their timeline, the change-log values, webhook
payloads and import rows). Anonymizing sends the type's ``person.anonymized`` data to its update
service, then scrubs the change log of the record (the update's own entry held the old values). Each
run of a policy that touched records writes an ErasureLog row (source "retention", counts only).
A run does at most BATCH records per policy, so one transaction stays short; the next run goes on.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.automation import jobs
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.privacy import erasure
from crm.privacy.finding import Person, identifiers
from crm.privacy.models import ErasureLog, RetentionPolicy

log = logging.getLogger("crm.privacy")

WHAT = "retention policies"
BATCH = 500
SAMPLE = 20
JOB = "privacy.retention"
CRON = "30 3 * * *"  # daily, 03:30 in TIME_ZONE
MAX_MONTHS = 1200
# The registry field a policy's status names, the first the type declares as a choice: a lead's,
# deal's, task's, quote's, order's or invoice's status; a contact's or company's lifecycle stage.
STATUS_FIELDS = ("status", "lifecycle_stage")


def months_before(now: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (the 31st becomes the month's last day)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


# --- policies -----------------------------------------------------------------------------------


def _check(policy: RetentionPolicy) -> None:
    rt = recordtypes.by_type(policy.object_type) or recordtypes.by_slug(policy.object_type)
    if rt is None:
        raise ValidationFailed({"object_type": f"No record type {policy.object_type!r}."})
    policy.object_type = rt.object_type
    if policy.action == "anonymize" and (rt.person is None or not rt.person.anonymized):
        raise ValidationFailed({"action": f"{rt.label} do not hold people: they can only be deleted."})
    if not 1 <= (policy.months or 0) <= MAX_MONTHS:
        raise ValidationFailed({"months": f"Between 1 and {MAX_MONTHS}."})
    _check_status(rt, policy.status or "")


def status_field(rt):
    """The type's status field (a RecordField of kind choice), or None: its policies are by age only."""
    for name in STATUS_FIELDS:
        f = next((f for f in rt.fields if f.name == name and f.kind == "choice" and f.choices), None)
        if f is not None:
            return f
    return None


def _check_status(rt, status: str) -> None:
    if not status:
        return
    f = status_field(rt)
    if f is None:
        raise ValidationFailed({"status": f"{rt.label} have no status: a policy on them is by age only."})
    values = [value for value, _label in f.choices]
    if status not in values:
        raise ValidationFailed(
            {"status": f"{status!r} is not a {rt.singular} {f.name}; use one of {', '.join(values)}."}
        )


def policy_create(*, actor, data: dict) -> RetentionPolicy:
    require_admin(actor, WHAT)
    fields = ("object_type", "action", "months", "field", "status", "active")
    with transaction.atomic():
        policy = configwrites.create(
            RetentionPolicy(**{k: data[k] for k in fields if k in data}), actor=actor, check=_check
        )
        install_schedule()
    return policy


def policy_update(policy: RetentionPolicy, *, actor, data: dict) -> RetentionPolicy:
    require_admin(actor, WHAT)
    if "status" in data and data["status"] is None:  # null clears the condition, as "" does
        data = {**data, "status": ""}
    with transaction.atomic():
        fields = ("action", "months", "field", "status", "active")
        return configwrites.update(policy, actor=actor, data=data, fields=fields, check=_check)


def policy_delete(policy: RetentionPolicy, *, actor) -> None:
    require_admin(actor, WHAT)
    with transaction.atomic():
        configwrites.delete(policy, actor=actor)


def install_schedule() -> None:
    """The daily run, created with the first policy."""
    from crm.automation.models import Schedule
    from crm.automation.scheduler import next_time

    if not Schedule.objects.filter(key=JOB).exists():
        schedule = Schedule(key=JOB, job_kind=JOB, cron=CRON)
        schedule.next_run_at = next_time(schedule, timezone.now())
        schedule.save()


# --- what is due, and running -------------------------------------------------------------------


def due(policy: RetentionPolicy, now: dt.datetime | None = None):
    """The policy's records past their time and, when it names one, in its status (anonymized ones
    are not anonymized again). None: the type, or its status field, is gone."""
    rt = recordtypes.by_type(policy.object_type)
    if rt is None:
        return None
    cutoff = months_before(now or timezone.now(), policy.months)
    qs = rt.objects().filter(**{f"{policy.field}__lt": cutoff})
    if policy.status:
        f = status_field(rt)
        if f is None:
            return None
        qs = qs.filter(**{f.filter_lookup: policy.status})
    if policy.action == "anonymize":
        qs = qs.exclude(_anonymized_q(rt))
    return qs.order_by("pk")


def _anonymized_q(rt) -> Q:
    names = {f.name for f in rt.model._meta.concrete_fields}
    q = Q()
    for key, value in rt.person.anonymized.items():
        if isinstance(value, str) and value:
            q &= Q(**{key if key in names else f"custom_fields__{key}": value})
    return q if q else Q(pk__in=[])


def report(now: dt.datetime | None = None) -> list[dict]:
    """The dry run: for each active policy, what the next run would do."""
    out = []
    for policy in RetentionPolicy.objects.filter(active=True):
        qs = due(policy, now)
        count = 0 if qs is None else qs.count()
        out.append(
            {
                "policy": policy.pk,
                "object_type": policy.object_type,
                "action": policy.action,
                "months": policy.months,
                "field": policy.field,
                "status": policy.status,
                "cutoff": months_before(now or timezone.now(), policy.months),
                "count": count,
                "next_run": min(count, BATCH),
                "sample": [] if qs is None else list(qs.values_list("pk", flat=True)[:SAMPLE]),
            }
        )
    return out


def run(*, actor, now: dt.datetime | None = None) -> list[dict]:
    """Apply every active policy (up to BATCH records each); returns what each did."""
    require_admin(actor, WHAT)
    done = []
    for policy in RetentionPolicy.objects.filter(active=True):
        with transaction.atomic():
            counts = _apply(policy, actor, now)
            RetentionPolicy.objects.filter(pk=policy.pk).update(last_run_at=timezone.now())
            if counts:
                entry = ErasureLog(
                    user=actor, user_name=actor.username, counts=counts, blocked=False, source="retention"
                )
                configwrites.create(entry, actor=actor)
        log.info("Retention policy %s: %s", policy.pk, counts or "nothing due")
        done.append({"policy": policy.pk, "counts": counts})
    return done


def _apply(policy: RetentionPolicy, actor, now) -> dict[str, int]:
    qs = due(policy, now)
    objs = [] if qs is None else list(qs[:BATCH])
    if not objs:
        return {}
    rt = recordtypes.by_type(policy.object_type)
    person = _person_of(rt, objs)
    if policy.action == "delete":
        return erasure.forget(person, actor)
    counts = {f"{rt.object_type}_anonymized": 0}
    for obj in objs:
        rt.update(obj, actor=actor, data=dict(rt.person.anonymized))
        counts[f"{rt.object_type}_anonymized"] += 1
    erasure.scrub(person, list(person.records), counts)
    return counts


def _person_of(rt, objs) -> Person:
    """The records as one "person" for the erasure steps (their own emails and phones only: a stale
    lead's address does not reach the contact who shares it)."""
    person = Person(asked={"retention": rt.object_type})
    for obj in objs:
        person.records[(rt.object_type, obj.pk)] = obj
        if rt.person is not None:
            emails, phones = identifiers(rt, obj)
            person.emails |= emails
            person.phones |= phones
    return person


@jobs.handler(JOB)
def scheduled_run(job) -> None:
    from crm.automation.system import automation_user

    run(actor=automation_user())
