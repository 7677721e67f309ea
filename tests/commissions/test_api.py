"""/api/v1/commissions: plans, assignments, splits, statements and their exports, through real tokens."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.commissions.conftest import D

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(api, admin_user, rep_a, won):
    """A 5 % plan with an 8 % tier at 100 %, rep_a on it for May 2026, one won deal with a hostile name."""
    boss = api(admin_user)
    r = boss.post(
        "/commissions/plans", {"name": "Standard", "base_rate": "5", "tiers": [{"threshold": "100", "rate": "8"}]}
    )
    assert r.status_code == 201, r.content
    plan = r.json()
    r = boss.post("/commissions/assignments", {"rep_id": rep_a.pk, "plan_id": plan["id"], "period": "2026-05"})
    assert r.status_code == 201, r.content
    deal = won(rep_a, "1000", D(2026, 5, 3), name='=HYPERLINK("http://evil")')
    r = boss.post("/commissions/statements/calculate", {"rep_id": rep_a.pk, "period": "2026-05"})
    assert r.status_code == 200, r.content
    return boss, plan, deal, r.json()


def test_plan_round_trip_and_refusals(api, admin_user, rep_a):
    boss = api(admin_user)
    body = {
        "name": "Orders",
        "basis": "orders",
        "base_rate": "7.5",
        "cap": "1000",
        "clawback_days": 30,
        "category_rates": [{"category": "Hardware", "rate": "10"}],
    }
    created = boss.post("/commissions/plans", body).json()
    assert (created["base_rate"], created["category_rates"]) == (
        "7.5000",
        [{"category": "Hardware", "rate": "10.0000"}],
    )
    assert boss.patch(f"/commissions/plans/{created['id']}", {"tiers": [{"threshold": "120", "rate": "9"}]}).json()[
        "tiers"
    ] == [{"threshold": "120.00", "rate": "9.0000"}]
    negative = boss.post("/commissions/plans", {"name": "Bad", "base_rate": "-1"})
    assert negative.status_code == 422
    taken = boss.post("/commissions/plans", {"name": "orders", "base_rate": "1"})
    assert taken.status_code == 422 and "name" in taken.json()["error"]["fields"]
    assert api(rep_a).post("/commissions/plans", {"name": "Mine", "base_rate": "50"}).status_code == 403
    assert api(rep_a).get("/commissions/plans").status_code == 200


def test_statement_read_by_its_rep_and_manager_not_by_others(setup, api, rep_a, rep_b, manager, readonly):
    _, _, _, calculated = setup
    st = calculated["statement"]
    assert calculated["created"] is True
    assert (st["version"], st["total"], st["lines"][0]["rule"]) == (
        1,
        "50.00",
        "base rate; no quota for the period, so no tiers: 5 %",
    )
    for user in (rep_a, manager):
        assert api(user).get(f"/commissions/statements/{st['id']}").json()["total"] == "50.00"
        assert [x["id"] for x in api(user).get("/commissions/statements", {"period": "2026-05"}).json()] == [st["id"]]
    assert api(rep_b).get(f"/commissions/statements/{st['id']}").status_code == 404
    assert api(rep_b).get("/commissions/statements").json() == []
    assert api(readonly).get("/commissions/statements").status_code == 403


def test_manager_adjusts_and_gets_version_2(setup, api, manager, rep_a):
    _, _, _, calculated = setup
    r = api(manager).post(
        "/commissions/adjustments", {"rep_id": rep_a.pk, "period": "2026-05", "amount": "-20", "note": "Pricing error"}
    )
    assert r.status_code == 200, r.content
    st = r.json()["statement"]
    assert (st["version"], st["adjustments"], st["total"]) == (2, "-20.00", "30.00")
    assert [v["version"] for v in st["versions"]] == [2, 1]
    again = api(manager).post("/commissions/statements/calculate", {"rep_id": rep_a.pk, "period": "2026-05"}).json()
    assert (again["created"], again["statement"]["id"]) == (False, st["id"])
    mine = api(rep_a).post(
        "/commissions/adjustments", {"rep_id": rep_a.pk, "period": "2026-05", "amount": "5", "note": "x"}
    )
    assert mine.status_code == 403


def test_splits_api(setup, api, rep_a, rep_b):
    boss, _, deal, _ = setup
    r = boss._call(
        "put",
        f"/commissions/deals/{deal.pk}/splits",
        {"splits": [{"user_id": rep_a.pk, "percent": "50"}, {"user_id": rep_b.pk, "percent": "40"}]},
    )
    assert r.status_code == 422 and r.json()["error"]["fields"] == {
        "splits": "The shares sum to 90 %; they must sum to 100 %."
    }
    r = boss._call(
        "put",
        f"/commissions/deals/{deal.pk}/splits",
        {"splits": [{"user_id": rep_a.pk, "percent": "50"}, {"user_id": rep_b.pk, "percent": "50"}]},
    )
    assert r.status_code == 200 and len(boss.get(f"/commissions/deals/{deal.pk}/splits").json()) == 2


def test_overlapping_assignment_is_a_422(setup, api, rep_a):
    boss, plan, _, _ = setup
    r = boss.post("/commissions/assignments", {"rep_id": rep_a.pk, "plan_id": plan["id"], "period": "FY2026-Q2"})
    assert r.status_code == 422 and "overlaps FY2026-Q2" in r.json()["error"]["fields"]["period"]


def test_exports_are_formula_safe(setup, api, rep_a):
    _, _, _, calculated = setup
    sid = calculated["statement"]["id"]
    r = api(rep_a).get(f"/commissions/statements/{sid}/export", {"format": "csv"})
    text = b"".join(r.streaming_content).decode()
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    r = api(rep_a).get(f"/commissions/statements/{sid}/export", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://evil")' in cells and "50.00" in cells
    r = api(rep_a).get(f"/commissions/statements/{sid}/export", {"format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert Decimal(calculated["statement"]["total"]) == Decimal("50.00")


def hide_deal_amount(user) -> None:
    from crm.access.models import Role

    role = user.profile.role
    Role.objects.filter(pk=role.pk).update(field_access={"deal": {"amount": "hidden"}})


def test_a_role_that_hides_the_deal_amount_reads_the_commission_without_it(setup, api, rep_a, manager):
    """A statement is pay data: its reader sees each line's commission and the totals, not the amount of a
    deal their role hides (original nor base), in the API and every export."""
    _, _, _, calculated = setup
    sid = calculated["statement"]["id"]
    hide_deal_amount(manager)
    line = api(manager).get(f"/commissions/statements/{sid}").json()["lines"][0]
    assert (line["original_amount"], line["base_amount"], line["original_currency"]) == (None, None, "")
    assert (line["commission"], line["source_type"]) == ("50.00", "deal")
    rep_line = api(rep_a).get(f"/commissions/statements/{sid}").json()["lines"][0]  # rep_a's role has no rule
    assert (rep_line["original_amount"], rep_line["base_amount"]) == ("1000.00", "1000.00")
    r = api(manager).get(f"/commissions/statements/{sid}/export", {"format": "csv"})
    rows = [row.split(",") for row in b"".join(r.streaming_content).decode().splitlines()]
    deal_rows = [row for row in rows if len(row) > 6 and row[1] == "deal"]
    assert len(deal_rows) == 1 and (deal_rows[0][4], deal_rows[0][6], deal_rows[0][-1]) == ("", "", "50.00")
    r = api(manager).get(f"/commissions/statements/{sid}/export", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    deal_row = next(row for row in sheet.iter_rows(values_only=True) if row[1] == "deal")
    assert deal_row[4] in (None, "") and deal_row[6] in (None, "") and deal_row[-1] == "50.00"
