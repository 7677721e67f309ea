"""The app on a phone (390 px) beside a desktop (1440 px), issue #20: one menu button opens every section,
a list's filters and bulk bar fold behind "Filters", tap targets are at least 44 px, and a record page
shows its quick-add and timeline before the details."""

import pytest
from playwright.sync_api import expect

from crm.records.services import activities, companies, contacts, deals
from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TAP = 44  # px, the smallest tap target on a phone (WCAG 2.5.5, Apple's and Google's guidelines)


def _small_targets(page, selector: str) -> list[str]:
    """The visible elements matching ``selector`` smaller than TAP px in either direction."""
    return page.eval_on_selector_all(
        selector,
        """(els, tap) => els.filter(el => el.offsetParent !== null).map(el => {
            const r = el.getBoundingClientRect();
            const name = el.textContent.trim() || el.getAttribute('aria-label');
            return (r.width < tap || r.height < tap) ? `${name}: ${Math.round(r.width)}x${Math.round(r.height)}` : null;
        }).filter(Boolean)""",
        TAP,
    )


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_the_menu_button_opens_every_section_on_a_phone(open_page, rep, sales):
    page = open_page(rep, PHONE)
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()  # no strip scrolling off screen
    menu = page.get_by_role("button", name="Menu", exact=True)
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for name in ("My day", "Companies", "Contacts", "Leads", "Deals", "Board", "Tasks", "Calendar"):
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name} is off screen"
    assert not _small_targets(page, ".mainnav a, .menubtn, .topbar .bell, .usermenu summary, main .btn")
    _no_sideways_scroll(page)
    shot(page, "menu-open-390")
    nav.get_by_role("link", name="Deals", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deals")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # a new page starts closed
    page.get_by_role("button", name="Menu", exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert not page.errors


def test_the_desktop_shows_the_whole_menu_and_no_menu_button(open_page, rep):
    page = open_page(rep, DESKTOP)
    page.goto("/")
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Companies", "Deals", "Tasks", "Calendar"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_list_filters_and_bulk_bar_fold_behind_a_button_on_a_phone(open_page, rep):
    for name in ("Initech", "Globex"):
        companies.company_create(actor=rep, data={"name": name, "industry": "Paper" if name == "Initech" else "Gas"})
    page = open_page(rep, PHONE)
    page.goto("/companies/")
    first_row = page.locator("table.records tbody tr").first
    expect(page.locator("#filters")).to_be_hidden()
    expect(page.locator(".bulkbar")).to_be_hidden()
    shot(page, "companies-list-folded-390")
    # Before: the filters and bulk bar took 590 of 844 px; now the first row starts near the top.
    assert first_row.bounding_box()["y"] < 300, first_row.bounding_box()
    assert not _small_targets(page, "main .btn, table.records td.lead a")
    filters = page.get_by_role("button", name="Filters")
    filters.click()
    expect(filters).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Search companies")).to_be_visible()
    industry = page.get_by_label("Filter by Industry")  # the column filters are reachable on a phone too
    expect(industry).to_be_visible()
    industry.fill("Gas")
    industry.press("Enter")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    expect(page.locator("table.records tbody")).to_contain_text("Globex")
    expect(filters).to_have_text("Filters (1)")  # the count follows the filters htmx applied
    expect(filters).to_have_attribute("aria-expanded", "true")
    shot(page, "companies-list-filters-390")
    page.goto("/companies/")  # folded again; selecting a row brings the bulk bar back
    expect(page.locator(".bulkbar")).to_be_hidden()
    select = page.get_by_label("Select Initech")
    box = select.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box  # WCAG 2.5.8's minimum for a small control
    select.check()
    expect(page.locator(".bulkbar")).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    _no_sideways_scroll(page)
    assert not page.errors


def test_list_filters_stay_open_on_a_desktop(open_page, rep):
    companies.company_create(actor=rep, data={"name": "Initech"})
    page = open_page(rep, DESKTOP)
    page.goto("/companies/")
    expect(page.get_by_role("button", name="Filters")).to_be_hidden()
    expect(page.get_by_label("Search companies")).to_be_visible()
    expect(page.get_by_label("Filter by Industry")).to_be_visible()
    expect(page.locator(".bulkbar")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_the_record_page_puts_the_timeline_first_on_a_phone(open_page, rep, sales, viewport):
    acme = companies.company_create(actor=rep, data={"name": "Acme"}).obj
    ada = contacts.contact_create(actor=rep, data={"first_name": "Ada", "last_name": "L", "company_id": acme.pk}).obj
    deals.deal_create(actor=rep, data={"name": "Acme rollout", "amount": "100", "company_id": acme.pk})
    activities.activity_create(actor=rep, data={"kind": "call", "subject": "Intro", "contact_id": ada.pk})
    page = open_page(rep, viewport)
    page.goto(f"/contacts/{ada.pk}/")
    quick = page.get_by_role("tab", name="Call").bounding_box()
    timeline = page.get_by_role("heading", name="Timeline").bounding_box()
    details = page.get_by_role("heading", name="Details").bounding_box()
    if viewport is PHONE:
        assert quick["y"] < timeline["y"] < details["y"], (quick, timeline, details)
        _no_sideways_scroll(page)
    else:  # three columns side by side: details on the left
        assert details["x"] < quick["x"] and abs(details["y"] - quick["y"]) < 200
    shot(page, f"contact-record-{viewport['width']}")
    assert not page.errors


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_chromium_finds_the_app_installable(open_page, rep, viewport):
    """Chromium's own verdict (DevTools protocol): the manifest parses without errors and nothing stands in
    the way of installing, without a service worker."""
    page = open_page(rep, viewport)
    page.goto("/")
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert not manifest["errors"], manifest["errors"]
    assert '"display": "standalone"' in manifest["data"]
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A Playwright context is an off-the-record profile, where Chromium installs nothing; that is the
    # only objection (no "no-matching-service-worker", no icon or manifest error).
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors
