"""What a person does all day, in a real browser: log in, add records, log a call, move a deal,
convert a lead, search, complete a task; and the phone-width layout."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.records.models import Company, Contact, Deal, Lead, StageChange, Task
from crm.records.services import activities, companies, contacts, deals, leads
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_log_in_then_create_a_company_and_a_contact(open_page, rep):
    page = open_page(None)
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    page.get_by_label("Username").fill("riley")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riley")

    page.get_by_role("link", name="+ Company").click()
    page.get_by_label("Name", exact=True).fill("Initech")
    page.get_by_label("Website domain").fill("initech.example")
    page.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech")
    company = Company.objects.get(name="Initech")

    page.get_by_role("link", name="Add to contacts").click()
    page.get_by_label("First name").fill("Peter")
    page.get_by_label("Last name").fill("Gibbons")
    page.get_by_label("Email", exact=True).fill("peter@initech.example")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Peter Gibbons")
    expect(page.locator(".sub")).to_contain_text("Initech")
    assert Contact.objects.get(email="peter@initech.example").company == company
    shot(page, "contact-created-1440")
    assert not page.errors


def test_pick_a_company_while_typing(open_page, rep):
    companies.company_create(actor=rep, data={"name": "Umbrella Health"})
    page = open_page(rep)
    page.goto("/contacts/new/")
    page.get_by_label("First name").fill("Alice")
    page.get_by_label("Company").fill("umbre")
    page.get_by_role("option", name="Umbrella Health").click()
    page.get_by_role("button", name="Create contact").click()
    expect(page.locator(".sub")).to_contain_text("Umbrella Health")


def test_log_a_call_and_see_it_on_the_timeline(open_page, rep):
    ada = contacts.contact_create(actor=rep, data={"first_name": "Ada", "last_name": "Lovelace"}).obj
    page = open_page(rep)
    page.goto(f"/contacts/{ada.pk}/")
    page.get_by_role("tab", name="Call").click()
    page.get_by_label("Subject").fill("Discovery call")
    page.get_by_label("Notes").fill("Wants a pilot in May.")
    page.get_by_label("Minutes").fill("25")
    page.get_by_role("button", name="Log call").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Discovery call")
    expect(timeline).to_contain_text("25 min")
    expect(page.get_by_label("Subject")).to_have_value("")  # the form is ready for the next one
    page.reload()
    expect(page.locator("#timeline")).to_contain_text("Wants a pilot in May.")
    shot(page, "timeline-call-1440")
    assert not page.errors


def test_drag_a_deal_to_another_stage_and_it_stays_there(open_page, rep, sales):
    deal = deals.deal_create(actor=rep, data={"name": "Big rollout", "amount": "40000"}).obj
    page = open_page(rep)
    page.goto("/board/")
    card = page.locator(f"#deal-{deal.pk}")
    target = page.locator('.cards[aria-label="Deals in Proposal"]')
    expect(card).to_be_visible()
    box, goal = card.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 15)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + 40 + (goal["x"] + 60 - box["x"] - 40) * step / 10, goal["y"] + 40)
    page.mouse.up()
    expect(page.locator("#toast")).to_contain_text("Moved")
    expect(page.locator("[data-stats]").nth(1)).to_contain_text("$40,000")
    page.reload()
    expect(target.locator(f"#deal-{deal.pk}")).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.probability == 50
    assert StageChange.objects.filter(deal=deal, to_stage__name="Proposal").exists()
    shot(page, "board-after-drag-1440")
    assert not page.errors


def test_moving_to_lost_asks_for_the_reason(open_page, rep, sales):
    deal = deals.deal_create(actor=rep, data={"name": "Long shot"}).obj
    page = open_page(rep)
    page.goto("/board/")
    page.get_by_label("Move Long shot to stage").select_option(label="→ Lost")
    page.get_by_label("Lost reason").fill("No budget")
    page.get_by_role("button", name="Mark lost").click()
    expect(page.locator("#toast")).to_contain_text("Moved")
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.lost_reason == "No budget"


def test_convert_a_lead(open_page, rep, sales):
    lead = leads.lead_create(
        actor=rep,
        data={"first_name": "Grace", "last_name": "Hopper", "company_name": "Navy Labs", "email": "grace@navy.example"},
    ).obj
    page = open_page(rep)
    page.goto(f"/leads/{lead.pk}/")
    page.get_by_role("link", name="Convert").click()
    page.get_by_label("Deal name").fill("Navy pilot")
    page.get_by_label("Amount").fill("9000")
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    expect(page.locator(".messages")).to_contain_text("Lead converted")
    expect(page.locator(".related")).to_contain_text("Navy pilot")
    lead.refresh_from_db()
    assert lead.converted_contact.email == "grace@navy.example"
    assert Deal.objects.get(name="Navy pilot").company.name == "Navy Labs"
    shot(page, "lead-converted-1440")


def test_search_from_the_header(open_page, rep):
    acme = companies.company_create(actor=rep, data={"name": "Acme Rockets", "domain": "acme.example"}).obj
    contacts.contact_create(actor=rep, data={"first_name": "Wile", "last_name": "Coyote", "email": "w@acme.example"})
    page = open_page(rep)
    page.goto("/")
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("acme")
    results = page.locator("#search-results")
    expect(results.get_by_role("group", name="Companies")).to_contain_text("Acme Rockets")
    expect(results.get_by_role("group", name="Contacts")).to_contain_text("Wile Coyote")
    shot(page, "search-dropdown-1440")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/companies/{acme.pk}/")


def test_complete_a_task(open_page, rep):
    task = activities.task_create(
        actor=rep, data={"title": "Call Ada back", "due_at": timezone.now() - dt.timedelta(hours=3)}
    ).obj
    page = open_page(rep)
    page.goto("/")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("overdue")
    row.get_by_role("button", name="Complete “Call Ada back”").click()
    expect(page.locator(f"#task-{task.pk} [aria-label=Done]")).to_be_visible()
    task.refresh_from_db()
    assert task.status == "done"
    page.reload()
    expect(page.locator(f"#task-{task.pk}")).to_have_count(0)


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_contact_page_at_phone_width(open_page, rep):
    acme = companies.company_create(actor=rep, data={"name": "Acme"}).obj
    ada = contacts.contact_create(
        actor=rep,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@a-very-long-domain-name.example",
            "company_id": acme.pk,
        },
    ).obj
    activities.activity_create(actor=rep, data={"kind": "call", "subject": "Intro", "contact_id": ada.pk})
    page = open_page(rep, PHONE)
    page.goto(f"/contacts/{ada.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    expect(page.get_by_role("tab", name="Call")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Intro")
    _no_sideways_scroll(page)
    shot(page, "contact-390")
    page.goto("/contacts/")
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "contacts-list-390")


def test_board_at_phone_width_moves_with_the_menu(open_page, rep, sales):
    deal = deals.deal_create(actor=rep, data={"name": "Phone deal", "amount": "1200"}).obj
    page = open_page(rep, PHONE)
    page.goto("/board/")
    column = page.locator("section.column").first
    assert column.bounding_box()["width"] < PHONE["width"]
    _no_sideways_scroll(page)
    shot(page, "board-390")
    page.get_by_label("Move Phone deal to stage").select_option(label="→ Proposal")
    expect(page.locator("#toast")).to_contain_text("Moved")
    page.reload()
    proposal = page.locator('.cards[aria-label="Deals in Proposal"]')
    expect(proposal.get_by_role("link", name="Phone deal")).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage.name == "Proposal"


def test_hidden_record_is_not_found_in_the_browser(open_page, rep):
    from tests.factories import UserFactory

    other = UserFactory(username="other", role="sales-rep")
    secret = companies.company_create(actor=other, data={"name": "Secret Co"}).obj
    page = open_page(rep)
    response = page.goto(f"/companies/{secret.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert Lead.objects.count() == 0 and Task.objects.count() == 0


def test_a_long_column_loads_more_cards_as_it_scrolls(open_page, rep, sales):
    from tests.factories import DealFactory

    DealFactory.create_batch(26, pipeline=sales, owner=rep)
    page = open_page(rep)
    page.goto("/board/")
    column = page.locator('.cards[aria-label="Deals in Qualify"]')
    expect(column.locator(".dealcard")).to_have_count(20)
    column.locator(".more").scroll_into_view_if_needed()
    expect(column.locator(".dealcard")).to_have_count(26)
    expect(column.locator(".more")).to_have_count(0)
