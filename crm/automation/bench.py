"""Automation measurements for `crm bench`: rule evaluations per second, and the delay from a
change to its rule's action through a real worker, on the database and the Redis backend.

``rule_evaluations_per_second`` leaves no data behind (it runs in a rolled-back transaction).
``change_to_action_delay`` starts its own `crm worker` on the current database, commits a few leads
and deletes them (and what the rule made) afterwards.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.test.utils import override_settings

from crm.automation import conditions, triggers
from crm.core.events import Event

BACKENDS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    "redis": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
}


class _Rollback(Exception):
    pass


def _rule(actor, **extra):
    from crm.automation.rules import rule_create

    data = {
        "name": "bench",
        "object_type": "lead",
        "trigger_type": "created",
        "conditions": {
            "all": [{"field": "status", "op": "eq", "value": "new"}],
            "any": [{"field": "source", "op": "eq", "value": "bench"}, {"field": "score", "op": "gt", "value": 50}],
        },
        "actions": [{"type": "create_task", "title": "Call {{name}}"}],
        **extra,
    }
    return rule_create(actor=actor, data=data)


def rule_evaluations_per_second(n: int = 500) -> dict:
    """Trigger match plus SQL conditions for ``n`` records, as a worker does for each event."""
    from crm.automation.system import automation_user
    from crm.records.models import Lead

    result = {}
    try:
        with transaction.atomic():
            actor = automation_user()
            rule = _rule(actor, enabled=False)
            leads = Lead.objects.bulk_create(
                [
                    Lead(last_name=f"B{i}", name=f"B{i}", source="bench" if i % 2 else "x", score=i % 100)
                    for i in range(n)
                ]
            )
            started = time.perf_counter()
            matched = 0
            for lead in leads:
                event = Event("record.created", "lead", lead.pk, None, {})
                if triggers.trigger_matches(rule, event):
                    matched += conditions.matches("lead", rule.conditions, lead.pk, actor, event.changes)
            elapsed = time.perf_counter() - started
            result = {
                "evaluations": n,
                "matched": matched,
                "seconds": round(elapsed, 3),
                "per_second": round(n / elapsed, 1),
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


def change_to_action_delay(backend: str = "database", samples: int = 10, timeout: float = 30) -> dict:
    """Seconds from a committed lead to its rule's task, through one real worker on ``backend``."""
    from crm.automation.models import Rule
    from crm.automation.system import automation_user
    from crm.records.models import Lead, Task
    from crm.records.services.leads import lead_create

    env = {**os.environ, "TASKS_BACKEND": backend, "REDIS_URL": settings.REDIS_URL}
    worker = subprocess.Popen(
        [sys.executable, "-m", "crm", "worker", "--interval", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    actor = automation_user()
    rule = _rule(actor, name=f"bench delay {time.time()}", conditions={})
    delays, lead_ids = [], []
    try:
        with override_settings(TASKS={"default": BACKENDS[backend]}):
            time.sleep(3)  # let the worker start; the first sample would otherwise measure Django's startup
            for i in range(samples):
                started = time.perf_counter()
                lead = lead_create(actor=actor, data={"last_name": f"Delay{i}", "owner_id": actor.pk}).obj
                lead_ids.append(lead.pk)
                deadline = started + timeout
                while not Task.objects.linked_to(lead).exists():
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"No action within {timeout}s on the {backend} backend")
                    time.sleep(0.01)
                delays.append(time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(10)
        Task.objects.filter(Task.linked_q("lead", Q(record_id__in=lead_ids))).delete()
        Lead.objects.filter(pk__in=lead_ids).delete()
        Rule.objects.filter(pk=rule.pk).delete()
    return {
        "backend": backend,
        "samples": len(delays),
        "p50_seconds": round(statistics.median(delays), 3),
        "max_seconds": round(max(delays), 3),
    }


def run_all() -> dict:
    """Everything, for the bench runner: evaluations/s, then the delay on both backends."""
    out = {"rule_evaluations": rule_evaluations_per_second()}
    for backend in BACKENDS:
        try:
            out[f"delay_{backend}"] = change_to_action_delay(backend)
        except Exception as exc:  # e.g. no Redis on this machine: report it, keep the other numbers
            out[f"delay_{backend}"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
