"""The bugs a new user met (issue #20), in a real browser: saved views keep the typed filters, bounds
and impossible dates are refused in the form, a lead moved by a rule is explained."""

import pytest
from playwright.sync_api import expect

from crm.records.models import Company
from crm.records.services import companies
from crm.web.models import SavedView
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# At 390 px the column filter row is folded away; the search box is the filter typed there.
@pytest.mark.parametrize(
    ("viewport", "box"), [(None, "Filter by Industry"), (PHONE, "Search companies")], ids=["1440", "390"]
)
def test_a_saved_view_keeps_the_filter_typed_in_a_column_box(open_page, rep, viewport, box):
    for name in ("Initech", "Globex", "Initrode"):
        companies.company_create(actor=rep, data={"name": name, "industry": "Paper" if name != "Globex" else "Gas"})
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    page.goto("/companies/")
    expect(page.locator("table.records tbody tr")).to_have_count(3)
    typed = page.get_by_label(box)
    typed.fill("Globex" if viewport else "Gas")
    typed.press("Enter")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    page.locator(".saveview summary").click()
    page.get_by_label("View name").fill("Gas companies")
    page.get_by_role("button", name="Save", exact=True).click()
    view = SavedView.objects.get(name="Gas companies")
    assert ("q=Globex" if viewport else "industry__contains=Gas") in view.query
    page.goto("/companies/")
    page.get_by_role("link", name="Gas companies").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    expect(page.locator("table.records tbody")).to_contain_text("Globex")
    shot(page, f"saved-view-{'390' if viewport else '1440'}")
    assert not page.errors
