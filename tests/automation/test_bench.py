import pytest

from crm.automation import bench
from crm.automation.models import Rule
from crm.records.models import Lead


@pytest.mark.django_db
def test_rule_evaluation_benchmark_measures_and_leaves_nothing():
    result = bench.rule_evaluations_per_second(n=40)
    assert result["evaluations"] == 40 and result["matched"] == 20  # the odd ones have source "bench"
    assert result["per_second"] > 0
    assert not Lead.objects.exists() and not Rule.objects.exists()
