"""/commissions/ pages: who sees what, the manager's adjust form (errors in place), exports, escaping."""

from decimal import Decimal

import pytest

from crm.commissions import statements
from crm.commissions.models import Statement
from tests.commissions.conftest import D

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(rep_a, plan, assign, won, admin_user):
    assign(rep_a, plan("Standard", 5))
    won(rep_a, "1000", D(2026, 5, 3), name="<script>alert(1)</script>")
    st, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    return st


def test_rep_sees_own_statement_escaped(web, rep_a, statement):
    page = web(rep_a).get("/commissions/")
    assert page.status_code == 200 and f"/commissions/statements/{statement.pk}/" in page.content.decode()
    body = web(rep_a).get(f"/commissions/statements/{statement.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert "base rate: 5 %" in body and "Add adjustment" not in body  # a rep does not adjust


def test_others_do_not(web, rep_b, readonly, statement):
    assert web(rep_b).get(f"/commissions/statements/{statement.pk}/").status_code == 404
    assert f"/commissions/statements/{statement.pk}/" not in web(rep_b).get("/commissions/").content.decode()
    assert web(readonly).get("/commissions/").status_code == 403


def test_manager_adjusts_with_errors_shown_then_saved(web, manager, rep_a, statement):
    client = web(manager)
    url = f"/commissions/statements/{statement.pk}/adjust/"
    bad = client.post(url, {"amount": "abc", "note": " "})
    assert bad.status_code == 422 and "Say why the statement is adjusted." in bad.content.decode()
    good = client.post(url, {"amount": "25.50", "note": "Spiff"})
    latest = Statement.objects.get(rep=rep_a, version=2)
    assert good.status_code == 302 and good["Location"] == f"/commissions/statements/{latest.pk}/"
    assert latest.total == statement.total + Decimal("25.50")
    again = client.post("/commissions/calculate/", {"rep_id": rep_a.pk, "period": "2026-05"}, follow=True)
    assert "Nothing changed: no new version." in again.content.decode()


def test_bad_period_is_shown_not_a_500(web, manager, statement):
    page = web(manager).get("/commissions/", {"period": "May"})
    assert page.status_code == 422 and "is not a period" in page.content.decode()


def test_web_exports(web, rep_a, statement):
    csv = web(rep_a).get(f"/commissions/statements/{statement.pk}/export.csv")
    assert csv.status_code == 200 and b"base rate: 5 %" in b"".join(csv.streaming_content)
    pdf = web(rep_a).get(f"/commissions/statements/{statement.pk}/export.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert web(rep_a).get(f"/commissions/statements/{statement.pk}/export.exe").status_code == 404


def test_splits_page_refuses_90_then_saves_100(web, rep_a, rep_b, admin_user, won):
    from crm.commissions.models import DealSplit

    deal = won(rep_a, "1000", D(2026, 5, 3))
    client = web(admin_user)
    assert client.get(f"/commissions/deals/{deal.pk}/splits/").status_code == 200
    form = {"rows": "3", "user_0": rep_a.pk, "percent_0": "50", "user_1": rep_b.pk, "percent_1": "40"}
    bad = client.post(f"/commissions/deals/{deal.pk}/splits/", form)
    assert bad.status_code == 422 and "they must sum to 100 %" in bad.content.decode()
    good = client.post(f"/commissions/deals/{deal.pk}/splits/", {**form, "percent_1": "50"})
    assert good.status_code == 302 and DealSplit.objects.filter(deal=deal).count() == 2
    assert web(rep_b).get(f"/commissions/deals/{deal.pk}/splits/").status_code == 404  # not rep_b's deal


def test_manager_calculates_a_whole_period_of_their_team(web, manager, rep_a, rep_b, plan, assign, won):
    """One pass over the period: the team's rep gets a version; rep_b (no team of the manager) is left out."""
    standard = plan("Team plan", 5)
    assign(rep_a, standard)
    assign(rep_b, standard)
    won(rep_a, "2000", D(2026, 5, 3))
    won(rep_b, "3000", D(2026, 5, 4))
    client = web(manager)
    assert "Calculate all of 2026-05" in client.get("/commissions/").content.decode()
    done = client.post("/commissions/calculate-period/", {"period": "2026-05"})
    assert done.status_code == 302 and done["Location"].endswith("?period=2026-05")
    assert list(Statement.objects.values_list("rep_id", "total")) == [(rep_a.pk, Decimal("100.00"))]
    client.post("/commissions/calculate-period/", {"period": "2026-05"})
    assert Statement.objects.count() == 1  # nothing changed: no second version
    bad = client.post("/commissions/calculate-period/", {"period": "2026-13"}, follow=True)
    assert bad.status_code == 200 and Statement.objects.count() == 1
    none = client.post("/commissions/calculate-period/", {"period": "2026-07"}, follow=True)
    assert "No commission plan of 2026-07 you may recalculate." in none.content.decode()


def test_a_role_that_hides_the_deal_amount_sees_no_amount_on_the_statement_page(web, manager, rep_a, statement):
    from crm.access.models import Role

    line_amount = "1000.00 USD"  # the line's original amount as the page shows it
    assert line_amount in web(manager).get(f"/commissions/statements/{statement.pk}/").content.decode()
    Role.objects.filter(pk=manager.profile.role_id).update(field_access={"deal": {"amount": "hidden"}})
    body = web(manager).get(f"/commissions/statements/{statement.pk}/").content.decode()
    assert line_amount not in body and "base rate: 5 %" in body
    assert line_amount in web(rep_a).get(f"/commissions/statements/{statement.pk}/").content.decode()
