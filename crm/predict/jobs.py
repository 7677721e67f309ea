"""The background jobs: ``predict.train`` (weekly, or "Retrain now": train the deal and the lead models,
then score every open deal and lead) and ``predict.score`` (nightly: score them with the models in
use). Their schedules are made the first time the settings page or the predict API is read."""

from __future__ import annotations

from django.utils import timezone

from crm.automation import jobs
from crm.predict import leads_scoring, leads_training, scoring, training

TRAIN, SCORE = "predict.train", "predict.score"
TRAIN_CRON, SCORE_CRON = "0 3 * * 0", "30 2 * * *"  # Sundays 03:00; every night 02:30 (TIME_ZONE)


@jobs.handler(TRAIN, atomic=False)
def train_job(job) -> dict:
    record, lead_record = training.train(), leads_training.train()
    return {
        "version": record.version,
        "in_use": record.in_use,
        "scored": scoring.score_open_deals(),
        "lead_version": lead_record.version,
        "lead_in_use": lead_record.in_use,
        "leads_scored": leads_scoring.score_open_leads(),
    }


@jobs.handler(SCORE, atomic=False)
def score_job(job) -> dict:
    return {"scored": scoring.score_open_deals(), "leads_scored": leads_scoring.score_open_leads()}


def install_schedules() -> None:
    from crm.automation.models import Schedule
    from crm.automation.scheduler import next_time

    for kind, cron in ((TRAIN, TRAIN_CRON), (SCORE, SCORE_CRON)):
        if not Schedule.objects.filter(key=kind).exists():
            schedule = Schedule(key=kind, job_kind=kind, cron=cron)
            schedule.next_run_at = next_time(schedule, timezone.now())
            schedule.save()


def retrain_now(user):
    """Enqueue a training run (admins and managers); one waiting run at a time."""
    from crm.predict.access import require_manager

    require_manager(user)
    install_schedules()
    return jobs.enqueue(TRAIN, {"by": user.pk}, key=f"{TRAIN}:now:{timezone.now():%Y%m%d%H%M}")
