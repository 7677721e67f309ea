"""Running a rule on a record: conditions, then actions in order, with a run history entry.

The actions up to the next ``wait`` run as one unit (a savepoint): they all happen or none does.
A ``wait`` schedules the rest of the run as a later job. A failure is recorded on the run; errors
in the data (ServiceError) fail the run at once, others are retried with backoff by the job runtime.
The user's own change that triggered the rule was committed before any of this started.
"""

from __future__ import annotations

import contextlib
import logging
import traceback

from django.db import transaction
from django.utils import timezone

from crm.automation import actions, conditions, jobs
from crm.automation.models import Job, Rule, RuleRun, RunStatus
from crm.automation.system import automation_user
from crm.core import context, events
from crm.core.errors import ServiceError

log = logging.getLogger("crm.automation")


class DryRunRollback(Exception):
    pass


@contextlib.contextmanager
def acting(depth: int):
    """Mark everything done inside as automation, one level deeper in the chain of events."""
    token = events.depth.set(depth + 1)
    try:
        with context.change_context(source="automation"):
            yield
    finally:
        events.depth.reset(token)


def load(object_type: str, object_id: int):
    return conditions.records_of(object_type).filter(pk=object_id).first()


def run_segment(rule: Rule, obj, actor, *, start: int, depth: int, dry: bool, log_entries: list) -> int | None:
    """Run actions from ``start`` up to the next wait; returns that wait's index, or None at the end."""
    model = type(obj)
    ctx = actions.Context(rule=rule, obj=obj, actor=actor, dry=dry)
    for i in range(start, len(rule.actions)):
        spec = rule.actions[i]
        if spec["type"] == "wait":
            return i
        entry = {"step": i, "type": spec["type"]}
        log_entries.append(entry)
        with acting(depth):
            entry["result"] = actions.ACTIONS[spec["type"]][1](ctx, spec)
        ctx.obj = model.objects.filter(pk=obj.pk).first() or ctx.obj  # later actions see earlier changes
    return None


@jobs.handler("rule.run")
def run_rule_job(job: Job):
    p = job.payload
    rule = Rule.objects.filter(pk=p["rule_id"]).first()
    if rule is None:
        return None
    run = RuleRun.objects.filter(pk=p.get("run_id")).first() if p.get("run_id") else None
    obj = load(p["object_type"], p["object_id"])
    actor = automation_user()
    if run is None:
        run = RuleRun.objects.create(
            rule=rule,
            object_type=p["object_type"],
            object_id=p["object_id"],
            trigger=p.get("trigger", ""),
            depth=p.get("depth", 0),
        )
        # Remember the run, so a retry or a later step continues this entry instead of starting one.
        Job.objects.filter(pk=job.pk).update(payload={**p, "run_id": run.pk})
        if obj is None or not conditions.matches(rule.object_type, rule.conditions, obj.pk, actor, p.get("changes")):
            return finish(run, RunStatus.SKIPPED, "The record no longer exists." if obj is None else "")
    if not rule.enabled or obj is None:
        return finish(run, RunStatus.SKIPPED, "The rule was disabled." if obj else "The record no longer exists.")
    run.attempts += 1
    entries: list = []
    try:
        with transaction.atomic():
            wait_at = run_segment(
                rule, obj, actor, start=p.get("step", 0), depth=p.get("depth", 0), dry=False, log_entries=entries
            )
            if wait_at is not None:
                schedule_rest(job, run, wait_at)
    except ServiceError as exc:
        _note_error(entries, exc.message, exc.fields)
        run.log = [*run.log, *entries]
        return finish(run, RunStatus.FAILED, f"{exc.message} {exc.fields or ''}".strip())
    except Exception as exc:
        _note_error(entries, f"{type(exc).__name__}: {exc}")
        run.log = [*run.log, *entries]
        retrying = jobs.will_retry(job)
        log.warning("Rule %s failed on %s %s: %s", rule.pk, run.object_type, run.object_id, exc)
        trace = "".join(traceback.format_exception(exc))[-4000:]
        finish(run, RunStatus.RETRYING if retrying else RunStatus.FAILED, trace)
        return jobs.RetryLater(f"{type(exc).__name__}: {exc}") if retrying else None
    run.log = [*run.log, *entries]
    if wait_at is not None:
        until = Job.objects.get(key=_step_key(run, wait_at + 1)).run_at
        run.log.append({"step": wait_at, "type": "wait", "until": until.isoformat()})
        return finish(run, RunStatus.WAITING)
    return finish(run, RunStatus.SUCCEEDED)


def _note_error(entries: list, message: str, fields: dict | None = None) -> None:
    if entries:
        entries[-1].update(error=message, **({"fields": fields} if fields else {}))


def _step_key(run: RuleRun, step: int) -> str:
    return f"run:{run.pk}:step:{step}"


def schedule_rest(job: Job, run: RuleRun, wait_at: int) -> None:
    spec = run.rule.actions[wait_at]
    payload = {**job.payload, "run_id": run.pk, "step": wait_at + 1}
    jobs.enqueue("rule.run", payload, run_at=timezone.now() + actions.delay(spec), key=_step_key(run, wait_at + 1))


def finish(run: RuleRun, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = None if status in (RunStatus.RUNNING, RunStatus.WAITING, RunStatus.RETRYING) else timezone.now()
    run.save()
    return None


def dry_run(rule: Rule, object_id: int, *, changes: dict | None = None) -> dict:
    """What the rule would do on this record now: conditions and actions, with nothing kept."""
    actor = automation_user()
    obj = load(rule.object_type, object_id)
    if obj is None:
        from crm.core.errors import NotFound

        raise NotFound(f"No {rule.object_type} with id {object_id}.")
    report = {
        "conditions": conditions.explain(rule.object_type, rule.conditions, obj.pk, actor, changes),
        "matched": conditions.matches(rule.object_type, rule.conditions, obj.pk, actor, changes),
        "actions": [],
    }
    if not report["matched"]:
        return report
    entries: list = []
    try:
        with transaction.atomic():
            start = 0
            while start is not None:
                wait_at = run_segment(rule, obj, actor, start=start, depth=0, dry=True, log_entries=entries)
                if wait_at is not None:
                    entries.append(
                        {
                            "step": wait_at,
                            "type": "wait",
                            "result": {"delay_seconds": actions.delay(rule.actions[wait_at]).total_seconds()},
                        }
                    )
                    start = wait_at + 1
                else:
                    start = None
            raise DryRunRollback
    except DryRunRollback:
        pass
    except ServiceError as exc:
        _note_error(entries, exc.message, exc.fields)
    report["actions"] = entries
    return report
