"""The bugs a new user met (issue #20), in a real browser: saved views keep the typed filters, bounds
and impossible dates are refused in the form, a lead moved by a rule is explained."""

import pytest
from playwright.sync_api import expect

from crm.automation import rules
from crm.records.models import Lead
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
    if viewport:  # a phone folds the filters and saved views behind one button
        page.get_by_role("button", name="Filters").click()
    typed = page.get_by_label(box)
    typed.fill("Globex" if viewport else "Gas")
    typed.press("Enter")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    page.locator(".saveview summary").click()
    page.get_by_label("View name").fill("Gas companies")
    page.get_by_role("button", name="Save", exact=True).click()
    if viewport:
        page.get_by_role("button", name="Filters").click()
    expect(page.get_by_role("link", name="Gas companies")).to_be_visible()  # saved: the list shows it
    view = SavedView.objects.get(name="Gas companies")
    assert ("q=Globex" if viewport else "industry__contains=Gas") in view.query
    page.goto("/companies/")
    if viewport:
        page.get_by_role("button", name="Filters").click()
    page.get_by_role("link", name="Gas companies").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    expect(page.locator("table.records tbody")).to_contain_text("Globex")
    shot(page, f"saved-view-{'390' if viewport else '1440'}")
    assert not page.errors


def _create_lead_in_the_browser(page, last_name: str) -> None:
    page.goto("/leads/new/")
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Last name").fill(last_name)
    page.get_by_role("button", name="Create lead").click()


@pytest.mark.parametrize(
    ("reassign", "viewport"),
    [(False, None), (True, None), (True, PHONE)],
    ids=["default", "reassign_owned", "reassign_owned-390"],
)
def test_a_new_lead_stays_or_its_move_is_explained(open_page, rep, settings, reassign, viewport):
    from tests.automation.conftest import IMMEDIATE
    from tests.factories import TeamFactory, UserFactory

    settings.TASKS = IMMEDIATE  # the rule runs as the save commits, before the next page
    team = TeamFactory(name="Inbound")
    UserFactory(username="sam", first_name="Sam", role="sales-rep", role__team=team)
    admin = UserFactory(username="root", role="admin")
    action = {"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk}
    if reassign:
        action["reassign_owned"] = True
    data = {"name": "Spread", "object_type": "lead", "trigger_type": "created", "actions": [action]}
    rules.rule_create(actor=admin, data=data)
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    _create_lead_in_the_browser(page, "Vanish")
    if not reassign:
        expect(page.get_by_role("heading", level=1)).to_have_text("Ann Vanish")
        assert Lead.objects.get(last_name="Vanish").owner == rep
        return
    expect(page.get_by_role("heading", level=1)).to_have_text("This lead was assigned to someone else")
    assert Lead.objects.get(last_name="Vanish").owner.username == "sam"
    expect(page.locator("main")).to_contain_text("Lead “Ann Vanish” was assigned to Sam by rule “Spread”.")
    expect(page.locator("main")).to_contain_text("ask your manager")
    shot(page, f"lead-moved-{'390' if viewport else '1440'}")
    assert not page.errors


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1440", "390"])
def test_an_impossible_date_blocks_the_submit(open_page, rep, sales, viewport):
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    page.goto("/deals/new/")
    page.get_by_label("Name", exact=True).fill("Feb deal")
    close = page.get_by_label("Expected close")
    close.click()
    page.keyboard.type("02312026")  # February 31st: the browser holds no value, only badInput
    assert close.evaluate("el => el.validity.badInput") is True
    page.get_by_role("button", name="Create deal").click()
    expect(page.locator("[data-bad-input]")).to_have_text(
        "Enter a real date: this one does not exist or is incomplete."
    )
    expect(close).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/deals/new/")
    shot(page, f"bad-date-{'390' if viewport else '1440'}")
    close.fill("2026-02-28")  # a real date: the message goes and the deal is saved with it
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feb deal")
    from crm.records.models import Deal

    assert str(Deal.objects.get(name="Feb deal").expected_close_date) == "2026-02-28"
    assert not page.errors


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1440", "390"])
def test_a_negative_revenue_is_refused_in_the_form(open_page, rep, viewport):
    page = open_page(rep, **({"viewport": viewport} if viewport else {}))
    page.goto("/companies/new/")
    revenue = page.get_by_label("Annual revenue")
    expect(revenue).to_have_attribute("min", "0")
    page.get_by_label("Name", exact=True).fill("Minus Inc")
    revenue.fill("-5")
    page.get_by_role("button", name="Create company").click()
    expect(page.locator(".has-error")).to_contain_text("greater than or equal to 0")
    from crm.records.models import Company

    assert not Company.objects.filter(name="Minus Inc").exists()
