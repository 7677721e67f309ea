"""The reasons behind a probability: the strongest facts in points, and never none at all."""

import numpy as np

from crm.predict import explain

FACTS = {"days_since_touch": 3, "amount": 1000, "age_days": 40, "categories": [], "stage_moves": 2}
GROUPS = ["amount", "age_days", "days_since_touch", "products", "stage_moves"]


def test_reasons_keep_the_three_strongest_facts_of_at_least_a_point_with_their_sign():
    out = explain.reasons(np.array([0.4, -12.2, 3.6, 1.2, -0.7]), GROUPS, FACTS, "USD")
    assert [r["points"] for r in out] == [-12, 4, 1]
    assert [r["fact"] for r in out] == GROUPS[1:4]
    assert out[0]["text"].endswith("(−12 pts)") and out[1]["text"].endswith("(+4 pts)")


def test_a_near_certain_probability_still_names_its_strongest_fact():
    # At 0.3 % no single fact moves the probability by a whole point: the strongest is named anyway.
    out = explain.reasons(np.array([-0.2, -0.6, 0.1]), GROUPS[:3], FACTS, "USD")
    assert len(out) == 1 and out[0]["fact"] == "age_days"
    assert out[0]["points"] == -1 or out[0]["text"].endswith("(−under 1 pt)")
    assert explain.reasons(np.array([-0.3, 0.2]), GROUPS[:2], FACTS, "USD")[0]["text"].endswith("(−under 1 pt)")


def test_no_reason_when_nothing_moved_it():
    assert explain.reasons(np.zeros(3), GROUPS[:3], FACTS, "USD") == []
