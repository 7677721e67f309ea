"""`crm bench commissions` on a small hand-made data set: the setup puts the quarter's deal owners on the
bench plan with a quota, every figure is measured, the floor reads the same deals (no timings asserted)."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.commissions import bench
from crm.commissions.models import PlanAssignment, Statement
from crm.forecast import periods
from tests.commissions.conftest import at

pytestmark = pytest.mark.django_db


def test_bench_runs_every_figure(admin_user, rep_a, rep_b, won):
    today = dt.date(2026, 5, 20)
    quarter = periods.shifted(periods.containing("quarter", today), -1)
    won(rep_a, "1000", quarter.start)
    won(rep_b, "500", quarter.last_day)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(timezone, "localdate", lambda *a, **k: today)
        result = bench.run(admin_user, runs=1)
    assert result["reps"] == 2 and result["won"] == 2
    assert set(PlanAssignment.objects.values_list("rep_id", flat=True)) == {rep_a.pk, rep_b.pk}
    assert Statement.objects.count() == 2  # the first versions; the timed recalculation wrote nothing
    assert len(result["figures"]) == 4 and all(f["runs"] == 1 for f in result["figures"].values())
    floor = {row[0]: row[3] for row in bench._floor(quarter)}
    assert floor == {rep_a.pk: 1000, rep_b.pk: 500}
    assert "| raw-SQL floor" in bench.report(result, at(today))
