"""The reasons behind a probability, in a rep's words: which facts moved it most, in points.

The model is a logistic regression on scaled features, so each feature pushes a deal's log-odds by its
weight × its scaled value (0 for a deal at the training average). Features are grouped by the fact they
come from (every stage column is "stage", every product column "products"); a group's points are the
probability with it minus the probability with the group's push taken away (as if that fact were
average), so "no activity for 40 days (−12 pts)" means: an average last touch would have given 12
points more.
"""

from __future__ import annotations

import numpy as np

from crm.money.currencies import organization_currency

TOP = 3
MIN_POINTS = 1.0


def group_of(column: str) -> str:
    name = column.split("=", 1)[0]
    return "products" if name == "product" else name


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def phrase(group: str, f: dict, org: str) -> str:
    """The fact behind a group of features, as a rep would say it."""
    kinds = {"n_call": "call", "n_meeting": "meeting", "n_email": "email", "n_note": "note"}
    if group in kinds:
        return f"{_plural(f[kinds[group]], kinds[group])} so far"
    days = f["days_since_touch"]
    texts = {
        "amount": lambda: f"amount {f['amount']:,.0f} {org}",
        "age_days": lambda: f"open for {_plural(f['age_days'], 'day')}",
        "stage": lambda: f"in stage {f['stage']}",
        "days_in_stage": lambda: f"{_plural(f['days_in_stage'], 'day')} in {f['stage']}",
        "stage_moves": lambda: _plural(f["stage_moves"], "stage move"),
        "moves_back": lambda: (
            f"moved back {_plural(f['moves_back'], 'stage')}" if f["moves_back"] else "never moved back"
        ),
        "source": lambda: f"lead source {f['source']}" if f["source"] else "no lead source",
        "industry": lambda: f"industry {f['industry']}" if f["industry"] else "industry unknown",
        "size": lambda: f"company size {f['size']}" if f["size"] else "company size unknown",
        "company_orders": lambda: (
            f"company placed {_plural(f['company_orders'], 'order')} before"
            if f["company_orders"]
            else "no earlier orders from the company"
        ),
        "touches_30d": lambda: f"{_plural(f['touches_30d'], 'activity')} in the last 30 days".replace(
            "activitys", "activities"
        ),
        "days_since_touch": lambda: (
            f"no activity for {_plural(days, 'day')}" if days is not None else "no activity yet"
        ),
        "owner_win_rate": lambda: f"owner won {f['owner_wins']} of {f['owner_closed']} closed deals",
        "owner_closed": lambda: f"owner closed {_plural(f['owner_closed'], 'deal')} before",
        "products": lambda: "products: " + ", ".join(f["categories"]) if f["categories"] else "no products quoted",
    }
    return texts[group]() if group in texts else group


def matrix(vec, rows: list[dict]) -> np.ndarray:
    """What ``vec.transform(rows)`` gives (dense), written straight into an array: a third of the
    time of DictVectorizer's own, which builds a sparse matrix first."""
    vocabulary = vec.vocabulary_
    out = np.zeros((len(rows), len(vocabulary)))
    for i, row in enumerate(rows):
        for name, value in row.items():
            if isinstance(value, str):
                j, value = vocabulary.get(f"{name}={value}"), 1.0
            else:
                j = vocabulary.get(name)
            if j is not None:
                out[i, j] = value
    return out


def points(pipe, rows) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(probabilities, points per deal × group, group names). ``rows``: the deals' vectors (dicts), or
    already their matrix (crm/predict/vectors.py ``matrix``)."""
    vec, scale, fit = pipe.named_steps["vec"], pipe.named_steps["scale"], pipe.named_steps["fit"]
    z = scale.transform(rows if isinstance(rows, np.ndarray) else matrix(vec, rows))
    push = z * fit.coef_[0]
    groups = sorted({group_of(c) for c in vec.feature_names_})
    index = {g: i for i, g in enumerate(groups)}
    member = np.zeros((push.shape[1], len(groups)))
    for col, name in enumerate(vec.feature_names_):
        member[col, index[group_of(name)]] = 1.0
    by_group = push @ member
    logit = push.sum(axis=1) + fit.intercept_[0]
    prob = 1 / (1 + np.exp(-logit))
    without = 1 / (1 + np.exp(-(logit[:, None] - by_group)))
    return prob, 100 * (prob[:, None] - without), groups


def strongest(pts: np.ndarray) -> np.ndarray:
    """Per row, the indexes of the ``TOP`` groups that moved it most (all rows in one sort)."""
    return np.argsort(-np.abs(pts), axis=-1)[..., :TOP]


def reasons(pts_row, groups: list[str], facts: dict, org: str, phrase_of=phrase, order=None) -> list[dict]:
    """The strongest facts (``phrase_of`` words them: the deal's ``phrase``, or a lead's); ``order``:
    the row's ``strongest`` when the caller sorted every row at once."""
    order = strongest(pts_row) if order is None else order
    out = []
    for rank, i in enumerate(order.tolist()):
        value = float(pts_row[i])
        # Near 0 % or 100 % no single fact moves the probability by a point; the strongest one is
        # still named, so a deal never shows a probability without a reason.
        if abs(value) >= MIN_POINTS or (rank == 0 and value != 0):
            rounded = round(value)
            sign = "+" if value > 0 else "−"
            size = f"{abs(rounded)} pts" if rounded else "under 1 pt"
            text = f"{phrase_of(groups[i], facts, org)} ({sign}{size})"
            out.append({"text": text, "points": rounded, "fact": groups[i]})
    return out


def explain_all(
    pipe, ids: list[int], facts: dict[int, dict], rows, phrase_of=phrase
) -> tuple[list[float], list[list[dict]]]:
    """Probabilities and reasons of ``ids`` (``rows``: their vectors or matrix, in the same order)."""
    prob, pts, groups = points(pipe, rows)
    org = organization_currency()
    order = strongest(pts)
    why = [reasons(pts[i], groups, facts[pk], org, phrase_of, order[i]) for i, pk in enumerate(ids)]
    return prob.tolist(), why
