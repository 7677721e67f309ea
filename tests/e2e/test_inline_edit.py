"""Inline editing in a real browser (static/web/inline.js + htmx): click a value, type, Enter saves
and shows the new value; Escape cancels another edit and leaves the value as it was; a value the
server refuses shows its message in place and saves nothing. The same in a list cell, whose row is
answered again. At 1440 and at 390 px (where list rows are cards)."""

import pytest
from playwright.sync_api import expect

from crm.records.models import Company
from crm.records.services import companies
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def value(scope, text):
    """A shown value that can be edited in place."""
    return scope.locator("[data-inline-show]").filter(has_text=text)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1440", "390"])
def test_click_type_enter_saves_and_escape_cancels(open_page, rep, viewport):
    width = "390" if viewport else "1440"
    acme = companies.company_create(actor=rep, data={"name": "Acme", "industry": "Tools", "city": "Oslo"}).obj
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    page.goto(f"/companies/{acme.pk}/")
    facts = page.locator("#facts-list")

    value(facts, "Tools").click(position={"x": 4, "y": 4})  # on the text, not its ✎ button
    industry = page.get_by_label("Industry", exact=True)
    expect(industry).to_be_focused()
    expect(industry).to_have_value("Tools")
    industry.fill("Rockets")
    industry.press("Enter")
    expect(facts).to_contain_text("Rockets")
    expect(page.locator("[data-inline-form]")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Industry")).to_be_focused()  # back where the edit began
    assert Company.objects.get(pk=acme.pk).industry == "Rockets"

    value(facts, "Oslo").click(position={"x": 4, "y": 4})
    city = page.get_by_label("City", exact=True)
    expect(city).to_be_focused()
    city.fill("Bergen")
    city.press("Escape")
    expect(page.locator("[data-inline-form]")).to_have_count(0)
    expect(value(facts, "Oslo")).to_be_visible()
    assert Company.objects.get(pk=acme.pk).city == "Oslo"
    shot(page, f"inline-edit-record-{width}")

    # A value the server refuses: its message in place, the typed value kept, nothing saved.
    page.get_by_role("button", name="Edit Annual revenue").click()
    revenue = page.get_by_label("Annual revenue", exact=True)
    expect(revenue).to_be_focused()
    revenue.fill("-5")  # the form is novalidate: the server decides, and says so in place
    revenue.press("Enter")
    expect(page.locator("[data-inline-form]")).to_contain_text("greater than or equal to 0")
    expect(page.get_by_label("Annual revenue", exact=True)).to_have_value("-5")
    assert Company.objects.get(pk=acme.pk).annual_revenue is None
    page.get_by_label("Annual revenue", exact=True).press("Escape")
    expect(page.locator("[data-inline-form]")).to_have_count(0)

    page.goto("/companies/")
    row = page.locator("tr", has=page.get_by_role("link", name="Acme"))
    row.locator('td[data-label="Industry"]').click()
    cell_input = row.get_by_label("Industry", exact=True)
    expect(cell_input).to_be_focused()
    cell_input.fill("Bakery")
    cell_input.press("Enter")
    expect(row.locator('td[data-label="Industry"]')).to_have_text("Bakery")
    expect(page.locator("[data-inline-form]")).to_have_count(0)
    assert Company.objects.get(pk=acme.pk).industry == "Bakery"
    shot(page, f"inline-edit-list-{width}")
    assert not page.errors
