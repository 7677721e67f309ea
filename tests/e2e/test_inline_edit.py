"""Inline editing in a real browser (static/web/inline.js + htmx): click a value, type, Enter saves
and shows the new value; Escape cancels another edit and leaves the value as it was. The same in a
list cell, whose row is answered again."""

import pytest
from playwright.sync_api import expect

from crm.records.models import Company
from crm.records.services import companies
from tests.e2e.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def value(scope, text):
    """A shown value that can be edited in place."""
    return scope.locator("[data-inline-show]").filter(has_text=text)


def test_click_type_enter_saves_and_escape_cancels(open_page, rep):
    acme = companies.company_create(actor=rep, data={"name": "Acme", "industry": "Tools", "city": "Oslo"}).obj
    page = open_page(rep)
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
    shot(page, "inline-edit-record-1440")

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
    shot(page, "inline-edit-list-1440")
    assert not page.errors
