"""Scoring's column-wise input (crm/predict/vectors.py ``matrix``) is, to the bit, what the pipeline's
DictVectorizer gives on the per-deal dicts, and the stored scores are those of the per-deal path."""

import datetime as dt
import random

import numpy as np
import pytest

from crm.predict import explain, features, scoring, training, vectors
from crm.predict.models import DealScore
from tests.predict.generated import generate


def facts(n: int, seed: int) -> list[dict]:
    """Deal facts as features.extract gives them, with unseen text values, no touch yet and products."""
    rng = random.Random(seed)
    return [
        {
            "amount": rng.choice([0.0, -5.0, 1234.56, 9e6]),
            "age_days": rng.randint(0, 2000),
            "stage_id": rng.choice([1, 2, 3, 99]),
            "days_in_stage": rng.randint(0, 900),
            "stage_moves": rng.randint(0, 9),
            "moves_back": rng.randint(0, 8),
            "source": rng.choice(["", "Web", "Referral", "never seen"]),
            "industry": rng.choice(["", "Retail", "Energy"]),
            "size": rng.choice(["", "1-10", "500+"]),
            "company_orders": rng.randint(0, 30),
            "categories": sorted(rng.sample(["Hardware", "Services", "Unknown"], rng.randint(0, 3))),
            **{kind: rng.randint(0, 40) for kind in vectors.KINDS},
            "touches_30d": rng.randint(0, 12),
            "days_since_touch": rng.choice([None, 0, 3, 400]),
            "owner_wins": rng.randint(0, 20),
            "owner_closed": rng.randint(20, 60),
        }
        for _ in range(n)
    ]


def test_matrix_is_the_vectorizers_output_to_the_bit():
    from sklearn.feature_extraction import DictVectorizer

    seen = facts(300, 1)
    seen[0] |= {"source": "Web", "categories": ["Hardware", "Services"]}
    vec = DictVectorizer(sparse=False).fit([vectors.vector(f) for f in seen[:200]])
    later = facts(300, 2)  # values the vectorizer never saw (stage 99, "never seen", "Unknown") are dropped
    for rows in (seen, later):
        expected = vec.transform([vectors.vector(f) for f in rows])
        assert np.array_equal(vectors.matrix(vec.vocabulary_, rows), expected)
        assert np.array_equal(explain.matrix(vec, [vectors.vector(f) for f in rows]), expected)


@pytest.mark.django_db
def test_stored_scores_are_those_of_the_per_deal_path():
    generate(400, signal=True)
    record = training.train()
    assert record.in_use, record.reason
    pipe, now = training.load(record), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert scoring.write_scores(pipe, record, now=now) == 60
    stored = {s.deal_id: (s.probability, s.reasons) for s in DealScore.objects.all()}
    ids = sorted(stored)
    seen = features.extract(dict.fromkeys(ids, now))
    probs, why = explain.explain_all(pipe, ids, seen, [vectors.vector(seen[pk]) for pk in ids])
    assert [stored[pk] for pk in ids] == list(zip(probs, why, strict=True))
