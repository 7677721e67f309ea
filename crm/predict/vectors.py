"""A deal's facts (crm/predict/features.py ``extract``) as the model's input, one definition for both
shapes: ``vector`` gives one deal's row as a dict (what the pipeline's DictVectorizer is fitted on in
training), ``matrix`` gives many deals' rows as the dense array that ``DictVectorizer.transform`` would,
built column by column (scoring: 167,440 open deals at 1m, where a dict per deal and a per-row fill
were a third of the run's Python time). Both read the same ``NUMERIC`` and ``TEXT`` tables, so they
cannot drift apart; tests/predict/test_vectors.py checks the two agree to the bit.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("call", "meeting", "email", "note")
CAP_DAYS = 365


def _days_since(f: dict) -> float:
    days = f["days_since_touch"] if f["days_since_touch"] is not None else f["age_days"]
    return math.log1p(min(days, CAP_DAYS))


def _count(kind: str):
    return lambda f: math.log1p(f[kind])


# Column name → its value for one deal's facts. Logs and caps keep long tails from dominating.
NUMERIC = {
    "amount": lambda f: math.log1p(max(f["amount"], 0.0)),
    "age_days": lambda f: math.log1p(min(f["age_days"], CAP_DAYS * 3)),
    "days_in_stage": lambda f: math.log1p(min(f["days_in_stage"], CAP_DAYS)),
    "stage_moves": lambda f: math.log1p(f["stage_moves"]),
    "moves_back": lambda f: min(f["moves_back"], 5),
    "company_orders": lambda f: math.log1p(f["company_orders"]),
    "touches_30d": lambda f: math.log1p(f["touches_30d"]),
    "days_since_touch": _days_since,
    # Smoothed towards one half, so an owner with two closes is not "100 %".
    "owner_win_rate": lambda f: (f["owner_wins"] + 1) / (f["owner_closed"] + 2),
    "owner_closed": lambda f: math.log1p(f["owner_closed"]),
    **{f"n_{kind}": _count(kind) for kind in KINDS},
}
# Text values become one column per value ("stage=s4"), as DictVectorizer names them.
TEXT = {
    "stage": lambda f: f"s{f['stage_id']}",
    "source": lambda f: f["source"] or "none",
    "industry": lambda f: f["industry"] or "none",
    "size": lambda f: f["size"] or "none",
}


def vector(f: dict) -> dict:
    """The model's input for one deal's facts (a DictVectorizer row: names → numbers or text)."""
    row = {name: value(f) for name, value in NUMERIC.items()}
    row.update({name: value(f) for name, value in TEXT.items()})
    for category in f["categories"]:
        row[f"product={category}"] = 1.0
    return row


def matrix(vocabulary: dict[str, int], facts: list[dict]) -> np.ndarray:
    """``DictVectorizer.transform([vector(f) for f in facts])`` with ``vocabulary``, dense, column by
    column; names the fitted vectorizer never saw are dropped, as it drops them."""
    out = np.zeros((len(facts), len(vocabulary)))
    for name, value in NUMERIC.items():
        j = vocabulary.get(name)
        if j is not None:
            out[:, j] = [value(f) for f in facts]
    for name, value in TEXT.items():
        _ones(out, [vocabulary.get(f"{name}={value(f)}", -1) for f in facts])
    rows, cols = [], []
    for i, f in enumerate(facts):
        for category in f["categories"]:
            j = vocabulary.get(f"product={category}")
            if j is not None:
                rows.append(i)
                cols.append(j)
    out[rows, cols] = 1.0
    return out


def _ones(out: np.ndarray, cols: list[int]) -> None:
    """Row i's column ``cols[i]`` set to 1 (-1: none)."""
    index = np.asarray(cols, dtype=np.int64)
    hit = np.nonzero(index >= 0)[0]
    out[hit, index[hit]] = 1.0
