"""The sales dashboard in a real browser: its charts draw under the CSP and a figure opens its deals."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.records.models import DealStatus, StageChange
from tests.factories import DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_dashboard_charts_and_drill_down(open_page, admin_user):
    pipeline = PipelineFactory(name="Sales", is_default=True)
    qualify, won = pipeline.stages.get(name="Qualify"), pipeline.stages.get(name="Won")
    created, closed = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), dt.datetime(2026, 5, 11, 12, tzinfo=dt.UTC)
    deal = DealFactory(
        name="Big win",
        owner=admin_user,
        pipeline=pipeline,
        stage=won,
        status=DealStatus.WON,
        amount=Decimal("1000"),
        created_at=created,
        closed_at=closed,
        stage_changed_at=closed,
    )
    StageChange.objects.create(deal=deal, to_stage=qualify, changed_at=created)
    StageChange.objects.create(deal=deal, from_stage=qualify, to_stage=won, changed_at=closed)
    page = open_page(admin_user)
    page.goto("/analytics/?period=2026-05")
    expect(page.locator("#counts-chart")).to_be_visible()
    page.wait_for_function("window.Chart && Chart.getChart('counts-chart') !== undefined")
    assert page.evaluate("Chart.getChart('counts-chart').data.datasets[0].data") == [1, 0, 0, 1]
    expect(page.locator("#analytics-figures")).to_contain_text("1000.00")
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")  # no serious accessibility problem
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)"
    )
    assert found == []
    page.locator("#analytics-figures").get_by_role("link", name="1", exact=True).first.click()
    expect(page.locator("#analytics-deals")).to_contain_text("Big win")
    assert page.csp_violations == []
    assert not page.errors
