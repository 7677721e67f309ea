"""The shape a stored score takes in the API and on the pages, shared by deals and leads
(crm/predict/api.py's DealScoreOut and LeadScoreOut hold the same five fields)."""

from __future__ import annotations


def score_fields(score) -> dict:
    """probability, method, model_version, reasons and scored_at of a DealScore or LeadScore. Without a
    model the method names the score's baseline (``BASELINE``: "stage" for deals, "source" for leads)."""
    return {
        "probability": score.probability,
        "method": "model" if score.model_id else score.BASELINE,
        "model_version": score.model.version if score.model_id else None,
        "reasons": [{"text": r["text"], "points": r["points"]} for r in score.reasons],
        "scored_at": score.scored_at,
    }


def unscored(probability: float | None, method: str) -> dict:
    """The same fields for a record without a stored score: no model, no reasons, never scored."""
    return {"probability": probability, "method": method, "model_version": None, "reasons": [], "scored_at": None}
