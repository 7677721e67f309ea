"""The in-use rule (crm/predict/training.py ``assess``/``verdict``) on generated feature matrices, no
database: a planted signal is used; a model at chance level is not, even where the old rule (beat the
baseline's AUC by two standard errors and its Brier score) let it in because the baseline ranks worse
than a coin, as the benchmark seed's stage probability does at 1m."""

import numpy as np
import pytest

from crm.predict import leads_training, training


def matrix(n: int, seed: int, *, signal: bool):
    """``n`` rows shaped like features.vector's (numbers and one text column) and their outcomes: with
    ``signal`` the outcome follows the "engagement" column, without it everything is independent."""
    rng = np.random.default_rng(seed)
    engagement, other = rng.normal(size=n), rng.normal(size=n)
    stage = rng.choice(["s1", "s2", "s3"], size=n)
    won = (engagement + 0.7 * rng.normal(size=n) > 0) if signal else rng.random(n) < 0.5
    x = [
        {"engagement": float(e), "other": float(o), "stage": str(s)}
        for e, o, s in zip(engagement, other, stage, strict=True)
    ]
    return x, [int(w) for w in won], rng


def below_chance_baseline(y: list[int], rng, lean: float) -> list[float]:
    """A stage probability like the seed's: badly calibrated (10 %–90 %) and, by ``lean``, more often
    high for lost deals than for won ones, so it ranks worse than a coin."""
    levels = np.array([0.1, 0.5, 0.9])
    return [float(levels[min(2, int(rng.random() * 3 + (lean if not won else -lean) * rng.random()))]) for won in y]


def old_rule(model: dict, base: dict, won: int, lost: int) -> bool:
    """The rule before issue 15's fix: beat the baseline's AUC by two standard errors and its Brier score."""
    margin = 2 * training.auc_error(model["auc"], won, lost)
    return model["auc"] - base["auc"] > margin and model["brier"] < base["brier"]


def test_planted_signal_is_used():
    x, y, _rng = matrix(2000, 1, signal=True)
    cut = 1500
    model, base, in_use, reason = training.assess(x, y, [0.5] * (len(y) - cut), cut)
    assert in_use, reason
    assert reason.startswith("In use: it ranks better than chance and beats the stage probability")
    assert model["auc"] > 0.75 and base["auc"] == 0.5


def test_pure_noise_at_large_n_is_not_used_though_the_old_margin_passed():
    """20,000 rows: the test set is large enough that two standard errors are 0.016, and the baseline
    ranks below chance, so a model at chance level beat it under the old rule."""
    x, y, rng = matrix(20_000, 2, signal=False)
    cut = 15_000
    baseline = below_chance_baseline(y[cut:], rng, lean=0.3)
    model, base, in_use, reason = training.assess(x, y, baseline, cut)
    won = sum(y[cut:])
    assert base["auc"] < 0.49 and abs(model["auc"] - 0.5) < 0.016
    assert old_rule(model, base, won, len(y) - cut - won), "the case must be one the old rule let in"
    assert not in_use
    assert reason.startswith("Not used: its AUC is not above chance (0.5) by more than two standard errors")
    assert "better than the stage probability's" not in reason and "Brier" in reason  # only chance failed


def test_baseline_worse_than_chance_and_model_at_chance_is_not_used():
    """The verdict alone, with the figures of the 1m benchmark run that was declared in use."""
    model = {"auc": 0.502, "brier": 0.247}
    base = {"auc": 0.494, "brier": 0.420}
    won, lost = 16_000, 17_000
    assert old_rule(model, base, won, lost)
    in_use, reason = training.verdict(model, base, won, lost)
    assert not in_use
    assert "not above chance (0.5) by more than two standard errors (needs over 0.506)" in reason
    assert "AUC 0.502 vs 0.494, Brier 0.247 vs 0.420 for the stage probability" in reason


@pytest.mark.parametrize(
    ("model", "failed"),
    [
        ({"auc": 0.70, "brier": 0.30}, ["Brier score is not lower"]),
        ({"auc": 0.62, "brier": 0.20}, ["not better than the stage probability's by more than chance"]),
        ({"auc": 0.52, "brier": 0.30}, ["not above chance", "not better than the stage", "Brier score is not lower"]),
    ],
)
def test_the_reason_names_every_condition_that_failed(model, failed):
    in_use, reason = training.verdict(model, {"auc": 0.60, "brier": 0.25}, 400, 400)
    assert not in_use
    assert all(f in reason for f in failed), reason
    assert reason.count(";") == len(failed) - 1


def test_lead_model_follows_the_same_rule():
    x, y, rng = matrix(20_000, 3, signal=False)
    cut = 15_000
    baseline = below_chance_baseline(y[cut:], rng, lean=0.3)
    _model, _base, in_use, reason = training.assess(x, y, baseline, cut, name=leads_training.BASELINE, rows="leads")
    assert not in_use and "not above chance" in reason and "the source's conversion rate" in reason
    x, y, _rng = matrix(2000, 4, signal=True)
    assert training.assess(x, y, [0.5] * 500, 1500, name=leads_training.BASELINE, rows="leads")[2]
