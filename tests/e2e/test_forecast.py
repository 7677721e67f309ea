"""The forecast page in a real browser: the weekly movement chart draws (Chart.js, under the CSP) and the
method picker shows another method than the backtest's default."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.forecast import snapshots
from crm.records.models import DealStatus, StageChange
from tests.factories import DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_movement_chart_and_method_picker(open_page, admin_user):
    from django.core.cache import cache

    cache.clear()  # the page keeps backtests per scope and day
    pipeline = PipelineFactory(name="Sales", is_default=True)
    proposal = pipeline.stages.get(name="Proposal")
    for amount in ("1000", "400"):
        deal = DealFactory(
            owner=admin_user,
            pipeline=pipeline,
            stage=proposal,
            status=DealStatus.OPEN,
            amount=Decimal(amount),
            expected_close_date=dt.date(2026, 5, 15),
            probability=50,
        )
        StageChange.objects.create(deal=deal, to_stage=proposal, changed_at=deal.stage_changed_at)
    snapshots.take(dt.datetime(2026, 4, 20, 5, tzinfo=dt.UTC))
    page = open_page(admin_user)
    page.goto("/forecast/?period=FY2026-Q2")
    expect(page.locator("#method-note")).to_contain_text("stage-weighted forecast is shown by default")
    expect(page.locator("#movement-chart")).to_be_visible()
    expect(page.locator("#forecast-moved")).to_contain_text("700.00")  # (1000 + 400) × 50 %
    page.get_by_label("Forecast method", exact=True).select_option("best_case_total")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#forecast-rollup thead")).to_contain_text("Forecast (Best case)")
    expect(page.locator("#h-moved")).to_contain_text("Best case")
    assert page.csp_violations == []
    assert not page.errors
