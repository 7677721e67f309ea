"""The pipeline learns a planted signal and beats the stage probability; on pure noise it keeps the
baseline; too few closed deals give a clear state, not a crash."""

import pytest

from crm.predict import scoring, training
from crm.predict.models import DealScore
from tests.predict.generated import generate


@pytest.mark.django_db
def test_learns_planted_signal_and_beats_baseline():
    generate(400, signal=True)
    record = training.train()
    ev = record.evaluation
    assert record.in_use, record.reason
    assert ev["model"]["auc"] > ev["baseline"]["auc"] + 0.1
    assert ev["model"]["brier"] < ev["baseline"]["brier"]
    assert record.rows_train + record.rows_test == 340
    assert sum(b["count"] for b in ev["model"]["calibration"]) == record.rows_test
    assert training.load(record) is not None
    assert scoring.score_open_deals() == 60
    scores = list(DealScore.objects.all())
    assert all(s.model_id == record.pk for s in scores)
    assert all(s.reasons for s in scores)
    assert any("so far" in r["text"] or "activit" in r["text"] for s in scores for r in s.reasons)


@pytest.mark.django_db
def test_pure_noise_keeps_baseline():
    generate(400, signal=False)
    record = training.train()
    assert not record.in_use
    assert record.reason.startswith("Not used:")
    assert record.file_name == ""
    scoring.score_open_deals()
    assert not DealScore.objects.filter(model__isnull=False).exists()
    assert {s.probability for s in DealScore.objects.all()} == {0.5}  # the Proposal stage's 50 %


@pytest.mark.django_db
def test_too_few_closed_deals():
    generate(20, signal=True)
    record = training.train()
    assert not record.in_use
    assert record.reason.startswith("Too few closed deals to learn from: 17")
    assert record.evaluation == {}


@pytest.mark.django_db
def test_nothing_at_all():
    record = training.train()
    assert "Too few closed deals" in record.reason
    assert scoring.score_open_deals() == 0


@pytest.mark.django_db
def test_retrain_job_trains_and_scores(manager):
    """The "Retrain now" job: the worker's run trains, scores, and the schedules exist."""
    from crm.automation import jobs as runtime
    from crm.automation.models import Job, JobStatus, Schedule
    from crm.predict import jobs

    generate(400, signal=True)
    job = jobs.retrain_now(manager)
    assert runtime.run(job.pk) == "done"
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE
    assert training.latest().in_use
    assert DealScore.objects.filter(model__isnull=False).count() == 60
    assert set(Schedule.objects.filter(key__startswith="predict.").values_list("job_kind", flat=True)) == {
        "predict.train",
        "predict.score",
    }
