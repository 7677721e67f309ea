"""Board, forecast and funnel: the numbers, and that each user only counts the deals they may see."""

import datetime as dt

import pytest


def _deal(client, pipeline, name, amount, close=None, **extra):
    body = {"name": name, "amount": amount, "pipeline_id": pipeline.pk, **extra}
    if close:
        body["expected_close_date"] = close
    r = client.post("/deals", body)
    assert r.status_code == 201, r.content
    return r.json()


def _move(client, deal, stage, **extra):
    r = client.post(f"/deals/{deal['id']}/move", {"stage_id": stage.pk, **extra})
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


@pytest.fixture
def deals(api, rep_a, rep_b, pipeline, stages):
    """rep_a: 1000 + 2000 in Qualify, 3000 moved to Proposal, 500 won; rep_b: 7000 in Qualify."""
    a, b = api(rep_a), api(rep_b)
    _deal(a, pipeline, "A1", "1000.00", "2031-01-10")
    _deal(a, pipeline, "A2", "2000.00", "2031-01-25")
    _move(a, _deal(a, pipeline, "A3", "3000.00", "2031-02-03"), stages["Proposal"])
    won = _deal(a, pipeline, "A4", "500.00", "2031-01-05")
    _move(a, _move(a, won, stages["Proposal"]), stages["Won"])
    _deal(b, pipeline, "B1", "7000.00", "2031-01-15")


def _columns(client, pipeline, **params):
    r = client.get(f"/sales/pipelines/{pipeline.pk}/board", params)
    assert r.status_code == 200, r.content
    return {c["stage"]["name"]: c for c in r.json()["columns"]}


def test_board_totals_and_cards_only_count_visible_deals(api, rep_a, manager, admin_user, pipeline, deals):
    cols = _columns(api(rep_a), pipeline)
    assert list(cols) == ["Qualify", "Proposal", "Won", "Lost"]
    assert cols["Qualify"]["count"] == 2 and cols["Qualify"]["amount"] == "3000.00"
    assert cols["Qualify"]["weighted_amount"] == "300.00"  # 10 %
    assert cols["Proposal"]["weighted_amount"] == "1500.00"  # 50 %
    assert cols["Won"]["count"] == 1 and cols["Lost"]["count"] == 0
    assert {c["name"] for c in cols["Qualify"]["cards"]} == {"A1", "A2"}
    # The manager sees the team (rep_a), not rep_b; the admin sees everyone.
    assert _columns(api(manager), pipeline)["Qualify"]["count"] == 2
    assert _columns(api(admin_user), pipeline)["Qualify"]["amount"] == "10000.00"


def test_board_limits_cards_and_filters_by_owner(api, rep_b, admin_user, pipeline, deals):
    cols = _columns(api(admin_user), pipeline, cards=1, owner=rep_b.pk)
    assert cols["Qualify"]["count"] == 1
    assert [c["name"] for c in cols["Qualify"]["cards"]] == ["B1"]
    cols = _columns(api(admin_user), pipeline, cards=1)
    assert cols["Qualify"]["count"] == 3 and len(cols["Qualify"]["cards"]) == 1


@pytest.mark.parametrize(
    "path, status, field",
    [("/sales/pipelines/999999/board", 404, None), ("/sales/pipelines/{pk}/board?cards=500", 400, "cards")],
)
def test_board_bad_input_is_a_clear_4xx(api, admin_user, pipeline, path, status, field):
    r = api(admin_user).get(path.format(pk=pipeline.pk))
    assert r.status_code == status
    error = r.json()["error"]
    assert error["message"]
    if field:
        assert field in error["fields"]


def test_sales_endpoints_need_authentication(api, pipeline):
    for path in (f"/sales/pipelines/{pipeline.pk}/board", "/sales/forecast", "/sales/funnel"):
        assert api(None).get(path).status_code == 401


def test_forecast_weights_open_deals_by_close_month(api, rep_a, admin_user, deals):
    r = api(rep_a).get("/sales/forecast")
    assert r.status_code == 200
    months = {m["month"]: m for m in r.json()}
    # A4 is won: not in the forecast. Jan: A1 + A2 at 10 %; Feb: A3 at 50 %.
    assert set(months) == {"2031-01", "2031-02"}
    assert months["2031-01"]["count"] == 2 and months["2031-01"]["amount"] == "3000.00"
    assert months["2031-01"]["weighted_amount"] == "300.00"
    assert months["2031-02"]["weighted_amount"] == "1500.00"
    admin = {m["month"]: m for m in api(admin_user).get("/sales/forecast").json()}
    assert admin["2031-01"]["amount"] == "10000.00"


def test_forecast_puts_deals_without_a_close_date_last(api, rep_a, pipeline):
    client = api(rep_a)
    _deal(client, pipeline, "undated", "100.00")
    _deal(client, pipeline, "dated", "100.00", dt.date(2030, 3, 1).isoformat())
    assert [m["month"] for m in client.get("/sales/forecast").json()] == ["2030-03", None]


def test_funnel_counts_deals_that_reached_each_stage(api, rep_a, admin_user, pipeline, deals):
    funnel = {p["pipeline"]["name"]: p for p in api(rep_a).get("/sales/funnel").json()}[pipeline.name]
    stages = {s["stage"]["name"]: s for s in funnel["stages"]}
    assert funnel["entered"] == 4  # rep_a's four deals all started in Qualify
    assert stages["Proposal"]["reached"] == 2 and stages["Won"]["reached"] == 1
    assert stages["Qualify"]["to_next"] == 0.5
    assert stages["Won"]["share_of_entered"] == 0.25
    everyone = {p["pipeline"]["name"]: p for p in api(admin_user).get("/sales/funnel").json()}[pipeline.name]
    assert everyone["entered"] == 5


def test_board_cursor_continues_in_the_deals_list(api, rep_a, pipeline, stages):
    client = api(rep_a)
    for i in range(5):
        _deal(client, pipeline, f"D{i}", "10.00")
    first = _columns(client, pipeline, cards=2)["Qualify"]
    assert len(first["cards"]) == 2 and first["next"]
    rest = client.get(
        "/deals", {"stage": stages["Qualify"].pk, "sort": "-stage_changed_at", "cursor": first["next"]}
    ).json()
    names = [c["name"] for c in first["cards"]] + [d["name"] for d in rest["items"]]
    assert names == ["D4", "D3", "D2", "D1", "D0"] and rest["next"] is None
    empty = _columns(client, pipeline, cards=0)["Qualify"]
    assert (empty["count"], empty["cards"], empty["next"]) == (5, [], None)


def test_board_filters_by_team_and_close_dates(api, manager, rep_a, rep_b, admin_user, team, pipeline, deals):
    cols = _columns(api(admin_user), pipeline, team=team.pk)
    assert cols["Qualify"]["count"] == 2  # rep_a's two; rep_b is in no team
    cols = _columns(api(admin_user), pipeline, close_from="2031-01-12", close_to="2031-01-31")
    assert sorted(c["name"] for c in cols["Qualify"]["cards"]) == ["A2", "B1"]
    assert cols["Qualify"]["amount"] == "9000.00" and cols["Proposal"]["count"] == 0


@pytest.mark.usefixtures("foreign_currencies")
def test_board_totals_are_per_currency(api, rep_a, pipeline, stages):
    client = api(rep_a)
    _deal(client, pipeline, "Dollars", "1000.00")
    _deal(client, pipeline, "Euros", "1000.00", currency="EUR")
    _move(client, _deal(client, pipeline, "More euros", "400.00", currency="eur"), stages["Proposal"])
    cols = _columns(client, pipeline)
    mixed = cols["Qualify"]
    # 1,000 USD and 1,000 EUR are not 2,000 of anything: no single amount, one total per currency.
    assert mixed["count"] == 2 and mixed["amount"] is None and mixed["weighted_amount"] is None
    assert mixed["currency"] is None
    assert mixed["totals"] == [
        {"currency": "EUR", "count": 1, "amount": "1000.00", "weighted_amount": "100.00"},
        {"currency": "USD", "count": 1, "amount": "1000.00", "weighted_amount": "100.00"},
    ]
    one = cols["Proposal"]  # one currency: the single amount stays, with its currency
    assert (one["amount"], one["weighted_amount"], one["currency"]) == ("400.00", "200.00", "EUR")
    assert one["totals"] == [{"currency": "EUR", "count": 1, "amount": "400.00", "weighted_amount": "200.00"}]
    empty = cols["Won"]
    assert (empty["count"], empty["amount"], empty["currency"], empty["totals"]) == (0, "0.00", None, [])


@pytest.mark.usefixtures("foreign_currencies")
def test_forecast_totals_each_currency_of_a_month_apart(api, rep_a, pipeline):
    client = api(rep_a)
    _deal(client, pipeline, "Dollars", "1000.00", "2031-03-10")
    _deal(client, pipeline, "Euros", "1000.00", "2031-03-20", currency="EUR")
    _deal(client, pipeline, "More dollars", "500.00", "2031-03-25")
    rows = client.get("/sales/forecast").json()
    assert [(m["month"], m["currency"], m["count"], m["amount"], m["weighted_amount"]) for m in rows] == [
        ("2031-03", "EUR", 1, "1000.00", "100.00"),
        ("2031-03", "USD", 2, "1500.00", "150.00"),
    ]
