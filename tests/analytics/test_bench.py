"""crm/sales/bench.py (`crm bench analytics`): its raw-SQL floors read the rows the endpoints count,
on this database's own SQL (date of a datetime, parameters as the driver compares them), and a run
times every endpoint and floor."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from crm.forecast import categories, periods
from crm.records.models import DealStatus
from crm.sales import bench
from tests.factories import ActivityFactory, DealFactory


def test_the_floors_read_what_the_endpoints_count_and_a_run_times_them_all(admin_user, pipeline):
    now = timezone.now().replace(microsecond=0)
    won = pipeline.stages.get(name="Won")
    deal = DealFactory(
        owner=admin_user, pipeline=pipeline, stage=won, status=DealStatus.WON, amount=Decimal("1000"),
        currency="USD", created_at=now - dt.timedelta(hours=1), closed_at=now, stage_changed_at=now,
    )  # fmt: skip
    ActivityFactory(owner=admin_user, kind="call", occurred_at=now, deal=deal)
    fy = categories.fiscal_year_start()
    period = periods.containing("quarter", timezone.localdate(), fy)
    floors = list(bench._floors(period, periods.shifted(period, -1, fy)).values())
    assert [tuple(r[:3]) for r in floors[0]()] == [("won", "USD", 1)]
    assert Decimal(str(floors[0]()[0][3])) == Decimal(1000)
    assert [tuple(r) for r in floors[1]()] == [(admin_user.pk, "call", 1)]
    assert [(r[0], str(r[1])[:10], r[2]) for r in floors[2]()] == [("USD", now.date().isoformat(), 1)]

    result = bench.run(admin_user, runs=1)
    assert result["deals"] == 1 and result["activities"] == 1
    assert len(result["figures"]) == 8 and all(f["runs"] == 1 for f in result["figures"].values())
    text = bench.report(result, timezone.now())
    assert text.count("| floor |") == 3 and text.count("≤ 200 ms") == 5
