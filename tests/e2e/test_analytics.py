"""The sales dashboard in a real browser: its charts draw under the CSP and a figure opens its deals."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.records.models import DealStatus, StageChange
from tests.factories import ActivityFactory, DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _big_win(admin_user):
    """A deal of 1000 won in May 2026 (no quote or order lines: uncategorized), with its stage history."""
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
    return deal


def test_dashboard_charts_and_drill_down(open_page, admin_user):
    _big_win(admin_user)
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


def _chart_data(page, canvas_id: str) -> dict:
    """What Chart.js drew on a canvas: its labels and each dataset's values (None: no chart there)."""
    page.wait_for_function(f"window.Chart && Chart.getChart('{canvas_id}') !== undefined")
    return page.evaluate(
        f"(() => {{ const c = Chart.getChart('{canvas_id}'); "
        "return {labels: c.data.labels, data: c.data.datasets.map(d => d.data)}; })()"
    )


def test_breakdown_charts_tables_and_drill_downs(open_page, admin_user):
    """The newer charts (by category, activities per rep, revenue trend): each draws from the page's
    data, its table holds the same numbers, and each number links to the records behind it."""
    deal = _big_win(admin_user)
    ActivityFactory(
        owner=admin_user,
        kind="call",
        subject="Call about the big win",
        deal=deal,
        occurred_at=dt.datetime(2026, 5, 5, 12, tzinfo=dt.UTC),
    )
    page = open_page(admin_user)
    page.goto("/analytics/?period=2026-05")

    categories = _chart_data(page, "categories-chart")
    assert categories == {"labels": ["(no category)"], "data": [[1000], [0]]}
    activities = _chart_data(page, "activities-chart")
    assert len(activities["labels"]) == 1 and activities["data"] == [[1], [0]]
    trend = _chart_data(page, "trend-chart")
    assert len(trend["labels"]) == 12 and trend["labels"][-1] == "2026-05"
    assert trend["data"][0][-1] == 1000 and sum(trend["data"][0]) == 1000
    for canvas in ("#categories-chart", "#activities-chart", "#trend-chart"):
        expect(page.locator(canvas)).to_be_visible()
        box = page.locator(canvas).bounding_box()
        assert box["width"] > 0 and box["height"] > 0

    expect(page.locator("#analytics-categories")).to_contain_text("(no category)")
    expect(page.locator("#analytics-categories")).to_contain_text("1000.00")
    expect(page.locator("#analytics-rep-activities")).to_contain_text("1")
    may = page.locator("#analytics-trend tr", has_text="2026-05")
    expect(may).to_contain_text("1000.00")

    page.locator("#analytics-categories").get_by_role("link", name="1000.00").click()
    expect(page.locator("#analytics-deals")).to_contain_text("Big win")
    page.go_back()
    page.locator("#analytics-rep-activities").get_by_role("link", name="1", exact=True).click()
    expect(page.locator("#analytics-activities")).to_contain_text("Call about the big win")
    page.go_back()
    may = page.locator("#analytics-trend tr", has_text="2026-05")
    may.get_by_role("link", name="1000.00").click()
    expect(page.locator("#analytics-deals")).to_contain_text("Big win")
    assert page.csp_violations == []
    assert not page.errors
