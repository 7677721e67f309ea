"""A trained model's record (its evaluation, whether it is in use and why) and each open deal's score."""

from __future__ import annotations

from django.db import models


class TrainedModel(models.Model):
    """One training run. The fitted pipeline is a file the app wrote under ``PREDICT_DIR`` (``file_name``)
    whose SHA-256 is kept here: it is loaded only when the hash matches (unpickling runs code)."""

    kind = models.CharField(max_length=10, default="deal")
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField()
    rows_train = models.PositiveIntegerField(default=0)
    rows_test = models.PositiveIntegerField(default=0)
    # {"model": {"auc", "brier", "calibration": [...]}, "baseline": {...}}; empty when there was too little data.
    evaluation = models.JSONField(default=dict, blank=True)
    in_use = models.BooleanField(default=False)
    reason = models.CharField(max_length=500)
    file_name = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="trainedmodel_kind_version")]

    def __str__(self) -> str:
        return f"{self.kind} model v{self.version}"


class DealScore(models.Model):
    """An open deal's predicted win probability (0–1) and the reasons that moved it most; from the
    model in use (``model`` set) or the stage probability (``model`` empty)."""

    BASELINE = "stage"  # the method named when no model scored it (crm/predict/shapes.py)

    deal = models.OneToOneField("records.Deal", on_delete=models.CASCADE, primary_key=True, related_name="win_score")
    probability = models.FloatField()
    model = models.ForeignKey(TrainedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reasons = models.JSONField(default=list, blank=True)  # [{"text": "...", "points": -12}]
    scored_at = models.DateTimeField()


class LeadScore(models.Model):
    """An open lead's predicted conversion probability (0–1), the reasons that moved it most and its
    part of the lead score (``points``: probability × the weight, docs/predict.md); from the model in
    use (``model`` set) or the conversion rate of its source (``model`` empty)."""

    BASELINE = "source"  # the method named when no model scored it (crm/predict/shapes.py)

    lead = models.OneToOneField(
        "records.Lead", on_delete=models.CASCADE, primary_key=True, related_name="conversion_score"
    )
    probability = models.FloatField()
    points = models.IntegerField()
    model = models.ForeignKey(TrainedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reasons = models.JSONField(default=list, blank=True)  # [{"text": "...", "points": -12}]
    scored_at = models.DateTimeField()
