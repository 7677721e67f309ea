"""Training and evaluation: a model of "this closed deal was won", judged against the stage probability.

Rows: every closed deal, seen as it was partway through its life (``instant``: between 25 % and 75 % of
the way from creation to close, fixed per deal), because that is when a rep looks at a probability; a
deal seen the second before it closed would teach the model the close itself. The split is by time:
the oldest 75 % of closes train, the newest 25 % test, so the test asks what a model trained on the past
says about later deals. The baseline is the probability of the deal's stage at the same instant.

The model is used only when, on the test rows, it ranks better than chance by itself (AUC above 0.5 by
more than two standard errors) and beats the baseline on both AUC (ranking) and Brier score (calibrated
probabilities); otherwise the record says which failed and scoring keeps the stage probability.
When it is used, it is refit on all closed deals (the evaluation describes the same settings on the
older 75 %) and written with joblib under ``PREDICT_DIR``; its SHA-256 goes in the record, and
``load`` opens only a file named by a record whose hash matches: unpickling runs code, so nothing the
app did not write is ever loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from crm.predict import features
from crm.predict.models import TrainedModel
from crm.records.models import Deal, DealStatus

log = logging.getLogger("crm.predict")
MIN_CLOSED = 40
MIN_PER_CLASS = 5
TEST_SHARE = 0.25
BINS = 10
FILE_NAME = re.compile(r"^(deal|lead)-v\d+\.joblib$")


def instant(pk: int, created: dt.datetime, closed: dt.datetime) -> dt.datetime:
    """The moment a closed deal is seen at for training: a fixed fraction (by its id) of its life."""
    fraction = 0.25 + 0.5 * ((pk * 2654435761) % 1000) / 1000
    life = max(closed - created, dt.timedelta(seconds=2))
    return created + life * fraction


def make_pipeline():
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # A linear model on scaled features: fast on 300,000 rows, and each feature's push on a deal's
    # log-odds is its weight × its scaled value, which is what the reasons read (explain.py).
    return Pipeline(
        [
            ("vec", DictVectorizer(sparse=False)),
            ("scale", StandardScaler()),
            ("fit", LogisticRegression(C=0.5, max_iter=2000)),
        ]
    )


def evaluate(y: list[int], p) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return {"auc": float(roc_auc_score(y, p)), "brier": float(brier_score_loss(y, p)), "calibration": calibration(y, p)}


def calibration(y: list[int], p) -> list[dict]:
    """Ten bins of predicted probability: the mean prediction and the share actually won in each."""
    bins: list[list] = [[] for _ in range(BINS)]
    for outcome, prob in zip(y, p, strict=True):
        bins[min(int(prob * BINS), BINS - 1)].append((float(prob), outcome))
    out = []
    for i, rows in enumerate(bins):
        if rows:
            out.append(
                {
                    "low": i / BINS,
                    "high": (i + 1) / BINS,
                    "predicted": sum(r[0] for r in rows) / len(rows),
                    "observed": sum(r[1] for r in rows) / len(rows),
                    "count": len(rows),
                }
            )
    return out


def closed_deals() -> list[tuple[int, dt.datetime, dt.datetime, int]]:
    """(id, created, closed, won) of every closed deal, oldest close first."""
    rows = Deal.objects.filter(status__in=(DealStatus.WON, DealStatus.LOST), closed_at__isnull=False)
    rows = rows.order_by("closed_at", "id").values_list("id", "created_at", "closed_at", "status")
    return [(pk, created, closed, int(status == DealStatus.WON)) for pk, created, closed, status in rows]


def _refusal(rows) -> str:
    """Why there is too little to learn from, or ""."""
    cut = len(rows) - int(len(rows) * TEST_SHARE)
    train, test = [r[3] for r in rows[:cut]], [r[3] for r in rows[cut:]]
    if len(rows) < MIN_CLOSED:
        return f"Too few closed deals to learn from: {len(rows)} (at least {MIN_CLOSED} needed)."
    for name, ys in (("older", train), ("newer", test)):
        won = sum(ys)
        if min(won, len(ys) - won) < MIN_PER_CLASS:
            return (
                f"Too few won or lost deals among the {name} closed deals ({won} won, {len(ys) - won} lost; "
                f"at least {MIN_PER_CLASS} of each needed)."
            )
    return ""


def train(*, now: dt.datetime | None = None) -> TrainedModel:
    """Train, evaluate against the baseline and record the result (a new version every run)."""
    now = now or timezone.now()
    rows = closed_deals()
    version = (TrainedModel.objects.filter(kind="deal").aggregate(v=Max("version"))["v"] or 0) + 1
    record = TrainedModel(kind="deal", version=version, trained_at=now)
    refusal = _refusal(rows)
    if refusal:
        record.reason = f"{refusal} The stage probability is used."
        record.save()
        return record
    facts = features.extract({pk: instant(pk, created, closed) for pk, created, closed, _ in rows})
    rows = [r for r in rows if r[0] in facts]
    cut = len(rows) - int(len(rows) * TEST_SHARE)
    x = [features.vector(facts[r[0]]) for r in rows]
    y = [r[3] for r in rows]
    baseline = [facts[r[0]]["stage_probability"] / 100 for r in rows]
    record.rows_train, record.rows_test = cut, len(rows) - cut
    model_eval, base_eval, record.in_use, record.reason = assess(x, y, baseline[cut:], cut)
    record.evaluation = {"model": model_eval, "baseline": base_eval}
    if record.in_use:
        pipe = make_pipeline().fit(x, y)
        record.file_name, record.sha256 = write(pipe, version)
    record.save()
    log.info("predict: deal model v%s trained on %s rows: %s", version, len(rows), record.reason)
    return record


def auc_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley and McNeil's standard error of an AUC from the numbers of won and lost test deals."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )
    return max(var, 0.0) ** 0.5


def assess(
    x: list[dict], y: list[int], baseline: list[float], cut: int, *, name="the stage probability", rows="deals"
) -> tuple[dict, dict, bool, str]:
    """Fit on the older ``cut`` rows, measure the model and ``baseline`` (the newer rows' baseline
    probabilities) on the newer ones: (model's evaluation, baseline's, in use, why). Shared by deals
    and leads (leads_training.py); the tests call it on generated matrices."""
    pipe = make_pipeline().fit(x[:cut], y[:cut])
    model_eval = evaluate(y[cut:], pipe.predict_proba(x[cut:])[:, 1])
    base_eval = evaluate(y[cut:], baseline)
    won = sum(y[cut:])
    return (model_eval, base_eval, *verdict(model_eval, base_eval, won, len(y) - cut - won, baseline=name, rows=rows))


def verdict(
    model: dict, base: dict, positives: int, negatives: int, *, baseline="the stage probability", rows="deals"
) -> tuple[bool, str]:
    """In use only when the model (1) ranks better than chance by itself: its AUC above 0.5 by more than
    two standard errors of an AUC of 0.5 on this many won and lost rows, (2) beats the baseline's AUC by
    more than two standard errors of its own AUC, and (3) has a lower Brier score. (2) alone let a model
    at chance level in when the baseline ranked worse than a coin (the benchmark seed's stage
    probability at 1m: AUC 0.502 vs 0.494 passed, the margin shrinking with the test set); (1) shuts
    that out. The reason names every condition that failed, with the figures."""
    auc, brier = (model["auc"], base["auc"]), (model["brier"], base["brier"])
    chance = 2 * auc_error(0.5, positives, negatives)
    margin = 2 * auc_error(auc[0], positives, negatives)
    figures = f"AUC {auc[0]:.3f} vs {auc[1]:.3f}, Brier {brier[0]:.3f} vs {brier[1]:.3f} for {baseline}"
    failed = []
    if auc[0] - 0.5 <= chance:
        over = f"needs over {0.5 + chance:.3f}"
        failed.append(f"its AUC is not above chance (0.5) by more than two standard errors ({over})")
    if auc[0] - auc[1] <= margin:
        failed.append(f"its AUC is not better than {baseline}'s by more than chance (needs +{margin:.3f})")
    if brier[0] >= brier[1]:
        failed.append("its Brier score is not lower")
    if not failed:
        return True, f"In use: it ranks better than chance and beats {baseline} on the newer {rows} ({figures})."
    return False, f"Not used: {'; '.join(failed)} ({figures})."


def directory() -> Path:
    return Path(getattr(settings, "PREDICT_DIR", settings.VAR_DIR / "predict"))


def write(pipe, version: int, kind: str = "deal") -> tuple[str, str]:
    import joblib

    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-v{version}.joblib"
    partial = folder / f".{name}.part"
    joblib.dump(pipe, partial)
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    os.replace(partial, folder / name)  # a reader never sees half a file
    return name, digest


_LOADED: dict[tuple[str, str], object] = {}


def load(record: TrainedModel):
    """The fitted pipeline of ``record``, or None when its file is missing or not the one the app wrote."""
    key = (record.file_name, record.sha256)
    if key in _LOADED:
        return _LOADED[key]
    if not FILE_NAME.match(record.file_name or "") or not record.sha256:
        return None
    path = directory() / record.file_name
    try:
        data = path.read_bytes()
    except OSError:
        log.warning("predict: model file %s is missing", path)
        return None
    if hashlib.sha256(data).hexdigest() != record.sha256:
        log.error("predict: model file %s does not match its recorded hash; not loaded", path)
        return None
    import io

    import joblib

    pipe = joblib.load(io.BytesIO(data))  # the bytes just checked, not the path again
    for old in [k for k in _LOADED if k[0].split("-")[0] == key[0].split("-")[0]]:
        del _LOADED[old]  # one pipeline kept per kind (deal, lead)
    _LOADED[key] = pipe
    return pipe


def latest(kind: str = "deal") -> TrainedModel | None:
    return TrainedModel.objects.filter(kind=kind).order_by("-version").first()


def in_use(kind: str = "deal") -> TrainedModel | None:
    record = latest(kind)
    return record if record is not None and record.in_use else None
