"""Accessibility: axe-core (npm, served from node_modules like htmx) run over the main pages in Chromium at
1440 and 390 px; a serious or critical violation fails the test. Each page is also saved as a screenshot
under var/screenshots/ (not committed) for people to look at."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from crm.records.services import activities, companies, contacts, deals
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
AXE = "/static/vendor/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")
RUN_AXE = """async (blocking) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary.split("\\n").slice(1).join(" ")),
  }));
}"""


@pytest.fixture
def world(rep, sales):
    acme = companies.company_create(actor=rep, data={"name": "Acme", "industry": "Paper", "city": "Oslo"}).obj
    person = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example", "company_id": acme.pk}
    ada = contacts.contact_create(actor=rep, data=person).obj
    today = timezone.localdate()
    data = {"name": "Acme rollout", "amount": "12000", "company_id": acme.pk, "expected_close_date": today}
    deal = deals.deal_create(actor=rep, data=data).obj
    activities.activity_create(actor=rep, data={"kind": "call", "subject": "Intro call", "contact_id": ada.pk})
    due = timezone.now() + dt.timedelta(hours=2)
    activities.task_create(actor=rep, data={"title": "Send the proposal", "deal_id": deal.pk, "due_at": due})
    return {"acme": acme, "ada": ada, "deal": deal}


def rep_pages(world) -> dict[str, str]:
    return {
        "home": "/",
        "companies": "/companies/",
        "company": f"/companies/{world['acme'].pk}/",
        "contacts": "/contacts/",
        "contact": f"/contacts/{world['ada'].pk}/",
        "deals": "/deals/",
        "board": "/board/",
        "tasks": "/tasks/",
        "my-tasks": "/tasks/mine/",
        "calendar": "/calendar/",
        "calendar-feed": "/calendar/feed/",
        "deal-form": "/deals/new/",
        "security": "/account/security/",
    }


ADMIN_PAGES = {  # the home page an admin sees is the team's (crm/web/team_home.py)
    "team-home": "/",
    "settings-currencies": "/settings/currencies/",
    "settings-objects": "/settings/objects/",
}


def check(page, name: str, path: str, width: int) -> list[str]:
    """Open the page, save its screenshot, and answer axe's serious and critical violations."""
    page.goto(path)
    page.wait_for_load_state("networkidle")  # htmx's load-triggered parts (the bell, purchase history)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.add_script_tag(url=AXE)
    found = page.evaluate(RUN_AXE, list(BLOCKING))
    return [f"{path} at {width}px: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in found]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_the_main_pages_have_no_serious_accessibility_violations(open_page, rep, world, viewport):
    from tests.factories import UserFactory

    page = open_page(rep, viewport)
    problems = []
    for name, path in rep_pages(world).items():
        problems += check(page, name, path, viewport["width"])
    admin_page = open_page(UserFactory(username="ines", first_name="Ines", role="admin"), viewport)
    for name, path in ADMIN_PAGES.items():
        problems += check(admin_page, name, path, viewport["width"])
    assert not problems, "\n".join(problems)
    assert not page.errors and not admin_page.errors


def test_the_phone_menu_and_folded_list_controls_open_are_accessible(open_page, rep, world):
    """The states a phone opens: the menu, and a list's filters with the column chooser."""
    page = open_page(rep, PHONE)
    page.goto("/")
    page.get_by_role("button", name="Menu", exact=True).click()
    page.add_script_tag(url=AXE)
    problems = [f"menu: {v}" for v in page.evaluate(RUN_AXE, list(BLOCKING))]
    page.goto("/contacts/")
    page.get_by_role("button", name="Filters").click()
    page.locator(".colchooser summary").click()
    page.screenshot(path=str(SCREENSHOTS / "contacts-filters-open-390.png"), full_page=True)
    page.add_script_tag(url=AXE)
    problems += [f"filters: {v}" for v in page.evaluate(RUN_AXE, list(BLOCKING))]
    assert not problems, "\n".join(problems)
