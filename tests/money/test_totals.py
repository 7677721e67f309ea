"""Board and forecast totals in the organization's currency, checked by hand: two currencies, two EUR
rates (January 1.10, March 1.20), GBP 1.25, and a deal dated before any EUR rate."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core import clock
from crm.records.services import deals
from crm.sales import selectors

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eur_gbp")]


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


def _deal(actor, pipeline, amount, currency, close, stage=None):
    data = {"name": f"{amount} {currency}", "amount": amount, "currency": currency, "probability": 50}
    data |= {"expected_close_date": close, "pipeline_id": pipeline.pk}
    if stage is not None:
        data["stage_id"] = stage.pk
    return deals.deal_create(actor=actor, data=data).obj


def test_a_column_total_converts_each_close_date_at_its_rate(rep_a, pipeline, stages):
    qualify = stages["Qualify"]
    _deal(rep_a, pipeline, "1000", "EUR", "2026-02-15", qualify)  # January rate: 1,100.00
    _deal(rep_a, pipeline, "500", "EUR", "2026-03-10", qualify)  # March rate: 600.00
    _deal(rep_a, pipeline, "250", "USD", "2026-03-10", qualify)  # 250.00
    _deal(rep_a, pipeline, "100.10", "GBP", "2026-02-01", qualify)  # 125.125
    column = next(c for c in selectors.board(rep_a, pipeline) if c["stage"] == qualify)
    converted = column["converted"]
    assert converted["currency"] == "USD"
    assert converted["amount"] == Decimal("2075.13")  # 2,075.125 rounded half-up once
    assert converted["weighted_amount"] == Decimal("1037.56")  # half of 2,075.125 = 1,037.5625
    assert converted["rates"] == [
        {"currency": "EUR", "rate": Decimal("1.1"), "rate_date": dt.date(2026, 1, 1)},
        {"currency": "EUR", "rate": Decimal("1.2"), "rate_date": dt.date(2026, 3, 1)},
        {"currency": "GBP", "rate": Decimal("1.25"), "rate_date": dt.date(2026, 1, 1)},
    ]
    assert converted["missing_rates"] == []
    assert [(t["currency"], t["amount"]) for t in column["totals"]] == [
        ("EUR", Decimal("1500.00")),
        ("GBP", Decimal("100.10")),
        ("USD", Decimal("250.00")),
    ]


def test_a_missing_rate_is_named_and_leaves_no_total(rep_a, pipeline, stages):
    proposal = stages["Proposal"]
    _deal(rep_a, pipeline, "100", "EUR", "2025-12-20", proposal)  # before the first EUR rate
    _deal(rep_a, pipeline, "100", "GBP", "2026-02-01", proposal)
    column = next(c for c in selectors.board(rep_a, pipeline) if c["stage"] == proposal)
    assert column["converted"]["amount"] is None and column["converted"]["weighted_amount"] is None
    assert column["converted"]["missing_rates"] == ["EUR on 2025-12-20"]


def test_a_closed_deal_converts_at_its_close_date(rep_a, pipeline, stages):
    with clock.at(dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)):
        deal = _deal(rep_a, pipeline, "1000", "EUR", "2026-06-30")
        deals.deal_move_stage(deal, stages["Won"], actor=rep_a)  # closed in February: the January rate
    column = next(c for c in selectors.board(rep_a, pipeline) if c["stage"] == stages["Won"])
    assert column["converted"]["amount"] == Decimal("1100.00")
    assert column["converted"]["rates"] == [
        {"currency": "EUR", "rate": Decimal("1.1"), "rate_date": dt.date(2026, 1, 1)}
    ]


def test_the_forecast_converts_each_month_and_currency(rep_a, pipeline):
    _deal(rep_a, pipeline, "1000", "EUR", "2026-02-15")
    _deal(rep_a, pipeline, "500", "EUR", "2026-03-10")
    _deal(rep_a, pipeline, "100", "EUR", "2025-12-20")
    months = {(m["month"], m["currency"]): m["converted"] for m in selectors.forecast(rep_a)}
    assert months[("2026-02", "EUR")]["amount"] == Decimal("1100.00")
    assert months[("2026-03", "EUR")]["amount"] == Decimal("600.00")
    assert months[("2025-12", "EUR")]["missing_rates"] == ["EUR on 2025-12-20"]


def test_the_api_board_and_forecast_carry_the_converted_totals(api, rep_a, pipeline, stages):
    _deal(rep_a, pipeline, "1000", "EUR", "2026-02-15", stages["Qualify"])
    board = api(rep_a).get(f"/sales/pipelines/{pipeline.pk}/board").json()
    column = next(c for c in board["columns"] if c["stage"]["id"] == stages["Qualify"].pk)
    assert column["converted"] == {
        "currency": "USD",
        "amount": "1100.00",
        "weighted_amount": "550.00",
        "rates": [{"currency": "EUR", "rate": "1.1000000000", "rate_date": "2026-01-01"}],
        "missing_rates": [],
    }
    [month] = api(rep_a).get("/sales/forecast").json()
    assert month["converted"]["amount"] == "1100.00"


def test_the_web_board_shows_the_converted_total_and_its_rates(web, rep_a, pipeline, stages):
    _deal(rep_a, pipeline, "1000", "EUR", "2026-02-15", stages["Qualify"])
    _deal(rep_a, pipeline, "10", "EUR", "2025-12-20", stages["Proposal"])
    html = web(rep_a).get("/board/").content.decode()
    assert "= $1,100 USD" in html and "Rates: EUR 1.1 on 2026-01-01" in html
    assert "No rate: EUR on 2025-12-20" in html
