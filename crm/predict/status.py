"""The model's state for the settings page and the API: the latest training run, its evaluation beside
the baseline's, whether it is in use and why."""

from __future__ import annotations

from crm.predict import training


def summary(kind: str = "deal") -> dict:
    """The latest run of the ``kind`` model (deal or lead)."""
    record = training.latest(kind)
    if record is None:
        fallback = "the stage probability" if kind == "deal" else "the source's conversion rate"
        return {
            "version": None,
            "trained_at": None,
            "in_use": False,
            "reason": f"Not trained yet: {fallback} is used.",
            "rows_train": 0,
            "rows_test": 0,
            "model": None,
            "baseline": None,
        }
    ev = record.evaluation or {}
    return {
        "version": record.version,
        "trained_at": record.trained_at,
        "in_use": record.in_use,
        "reason": record.reason,
        "rows_train": record.rows_train,
        "rows_test": record.rows_test,
        "model": ev.get("model"),
        "baseline": ev.get("baseline"),
    }


def chart(summary: dict) -> dict:
    """The calibration chart's data: per bin, mean predicted vs share won, for the model and the baseline."""
    out = {}
    for name in ("model", "baseline"):
        bins = (summary.get(name) or {}).get("calibration", [])
        out[name] = [{"x": round(b["predicted"], 4), "y": round(b["observed"], 4), "n": b["count"]} for b in bins]
    return out
