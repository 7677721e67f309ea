"""Empty lists teach (issue #20): what the list holds, the button to add the first record and the import
link, only what the user's role allows; filters that match nothing say so instead."""

import pytest
from playwright.sync_api import expect

from crm.records.services import companies
from crm.web.empty import ABOUT
from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_an_empty_list_says_what_it_is_and_offers_the_first_steps(open_page, rep, viewport):
    page = open_page(rep, viewport)
    page.goto("/companies/")
    empty = page.locator("[data-empty-state]")
    expect(empty.get_by_role("heading", name="No companies yet")).to_be_visible()
    expect(empty).to_contain_text(ABOUT["company"])
    empty.get_by_role("link", name="Import companies from a file").click()
    page.wait_for_url("**/imports/companies/new/")
    page.go_back()
    shot(page, f"empty-companies-{viewport['width']}")
    page.locator("[data-empty-state]").get_by_role("link", name="Add the first company").click()
    page.get_by_label("Name", exact=True).fill("Initech")
    page.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech")
    page.goto("/companies/")
    expect(page.locator("[data-empty-state]")).to_have_count(0)
    assert not page.errors


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_a_read_only_user_is_offered_neither_add_nor_import(open_page, viewport):
    from tests.factories import UserFactory

    page = open_page(UserFactory(username="vic", role="read-only"), viewport)
    page.goto("/deals/")
    empty = page.locator("[data-empty-state]")
    expect(empty.get_by_role("heading", name="No deals yet")).to_be_visible()
    expect(empty).to_contain_text("Your role lets you see deals, not add them.")
    expect(empty.get_by_role("link")).to_have_count(0)
    shot(page, f"empty-deals-readonly-{viewport['width']}")


def test_filters_that_match_nothing_are_not_an_empty_list(open_page, rep):
    companies.company_create(actor=rep, data={"name": "Initech"})
    page = open_page(rep)
    page.goto("/companies/?q=nothing-like-it")
    expect(page.locator("[data-empty-state]")).to_have_count(0)
    expect(page.locator("table.records tbody")).to_contain_text("No companies match these filters.")
