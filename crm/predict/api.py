"""/api/v1/predict/...: a deal's predicted win probability and a lead's conversion probability with
their reasons (anyone who may see the record), the models' evaluations and "retrain now" (admins and
managers).

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time."""

import datetime as dt
from typing import Literal

from ninja import Router, Schema, Status
from pydantic import Field

from crm.predict import access, jobs, leads_scoring, scoring, status

router = Router(tags=["predict"])


class ReasonOut(Schema):
    text: str = Field(description='What moved the probability, in words, e.g. "no activity for 40 days (−12 pts)".')
    points: int = Field(description="Percentage points it added (negative: took away).")


class DealScoreOut(Schema):
    deal_id: int
    probability: float = Field(ge=0, le=1, description="Predicted chance the deal is won, 0–1.")
    method: Literal["model", "stage"] = Field(description="model: the trained model; stage: the stage probability.")
    model_version: int | None
    reasons: list[ReasonOut]
    scored_at: dt.datetime | None


class LeadScoreOut(Schema):
    lead_id: int
    probability: float | None = Field(
        ge=0, le=1, description="Predicted chance the lead converts, 0–1; None: not scored (closed, or no data yet)."
    )
    method: Literal["model", "source", "none"] = Field(
        description="model: the trained model; source: the conversion rate of the lead's source; none: not scored."
    )
    model_version: int | None
    reasons: list[ReasonOut]
    scored_at: dt.datetime | None
    score_points: int = Field(description="The lead score's predicted part: probability × the weight (100).")
    entered_score: int | None = Field(description="The score entered or imported on the lead.")
    lead_score: int | None = Field(description="entered_score + score_points.")


class CalibrationBin(Schema):
    low: float
    high: float
    predicted: float
    observed: float
    count: int


class MeasuresOut(Schema):
    auc: float
    brier: float
    calibration: list[CalibrationBin]


class PredictModelOut(Schema):
    version: int | None = Field(description="None: never trained.")
    trained_at: dt.datetime | None
    in_use: bool
    reason: str
    rows_train: int
    rows_test: int
    model: MeasuresOut | None = Field(description="On the newer (held-out) closed deals.")
    baseline: MeasuresOut | None = Field(
        description="The baseline on the same rows: the stage probability (deals), the source rate (leads)."
    )


class RetrainOut(Schema):
    job_id: int | None = Field(description="None: a run asked for this minute is already waiting.")


@router.get("/deals/{int:deal_id}", response=DealScoreOut, summary="A deal's predicted win probability and why")
def deal_score(request, deal_id: int):
    """The model's probability and its main reasons when a model is in use, else the stage probability.
    404 for a deal you may not see."""
    return scoring.score_of(request.user, deal_id)


@router.get("/leads/{int:lead_id}", response=LeadScoreOut, summary="A lead's predicted conversion probability and why")
def lead_score(request, lead_id: int):
    """The model's probability and its main reasons when a lead model is in use, else the conversion
    rate of the lead's source; with the lead score's predicted part. 404 for a lead you may not see."""
    return leads_scoring.score_of(request.user, lead_id)


@router.get("/model", response=PredictModelOut, summary="The win-probability model's evaluation (managers)")
def model(request):
    access.require_manager(request.user)
    jobs.install_schedules()
    return status.summary()


@router.get("/lead-model", response=PredictModelOut, summary="The lead-conversion model's evaluation (managers)")
def lead_model(request):
    """As /model, for the lead model; its baseline is the conversion rate of the lead's source."""
    access.require_manager(request.user)
    jobs.install_schedules()
    return status.summary("lead")


@router.post("/retrain", response={202: RetrainOut}, summary="Retrain the model now (in the worker; managers)")
def retrain(request):
    job = jobs.retrain_now(request.user)
    return Status(202, {"job_id": job.pk if job else None})
