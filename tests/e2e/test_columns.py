"""Lists in the browser (issue #20): the column chooser (tick, reorder, kept), the sticky header and first
column, and columns past the frame scrolled to rather than cut off; at 1440 and 390 px."""

import pytest
from playwright.sync_api import expect

from crm.customization.services import custom_field_create
from crm.records.services import companies, contacts
from tests.e2e.conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _headers(page) -> list[str]:
    return [
        t.replace("▲", "").replace("▼", "").strip()
        for t in page.locator("table.records thead tr").first.locator("th[scope=col]").all_inner_texts()
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_choose_and_order_the_columns_of_a_list(open_page, rep, viewport):
    acme = companies.company_create(actor=rep, data={"name": "Acme"}).obj
    contacts.contact_create(
        actor=rep,
        data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example", "company_id": acme.pk},
    )
    page = open_page(rep, viewport)
    page.goto("/contacts/")
    if viewport is PHONE:
        page.get_by_role("button", name="Filters").click()
    page.locator(".colchooser summary").click()
    chooser = page.locator(".colform")
    chooser.get_by_label("Email", exact=True).uncheck()
    chooser.get_by_role("button", name="Move Company up").click()
    chooser.get_by_role("button", name="Move Company up").click()  # above Phone, never above Name
    chooser.get_by_role("button", name="Move Company up").click()
    assert chooser.locator("li").nth(0).inner_text().strip().startswith("Name")
    assert chooser.locator("li").nth(1).inner_text().strip().startswith("Company")
    shot(page, f"column-chooser-{viewport['width']}")
    chooser.get_by_role("button", name="Apply columns").click()
    row = page.locator("table.records tbody tr").first
    expect(row).to_contain_text("Acme")
    expect(row).not_to_contain_text("ada@acme.example")
    if viewport is DESKTOP:
        assert _headers(page)[:3] == ["NAME", "COMPANY", "PHONE"]  # shown in capitals (app.css)
    else:  # cards: each value labelled, in the chosen order
        labels = row.locator("td[data-label]:not(.blank)").evaluate_all("tds => tds.map(td => td.dataset.label)")
        assert labels[:2] == ["Name", "Company"], labels
    page.goto("/contacts/")  # kept for this user
    expect(page.locator("table.records tbody tr").first).not_to_contain_text("ada@acme.example")
    assert not page.errors


def test_a_wide_list_scrolls_with_its_header_and_name_in_view(open_page, rep):
    from tests.factories import UserFactory

    admin = UserFactory(username="ines", role="admin")
    for i in range(8):
        custom_field_create(
            actor=admin,
            data={"object_type": "contact", "key": f"extra_{i}", "label": f"Extra field {i}", "field_type": "text"},
        )
    for n in range(40):
        values = {f"extra_{i}": f"A value long enough to need room {n}-{i}" for i in range(8)}
        contacts.contact_create(
            actor=rep, data={"first_name": "Person", "last_name": f"{n:02}", "custom_fields": values}
        )
    page = open_page(rep, DESKTOP)
    page.goto("/contacts/")
    wrap = page.locator(".tablewrap")
    sizes = wrap.evaluate("el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]")
    assert sizes[0] > sizes[1], f"the table fits ({sizes}): nothing to scroll to"
    last = page.get_by_role("columnheader", name="Extra field 7")
    last.scroll_into_view_if_needed()  # the last column is reached by scrolling, not cut off
    box, frame = last.bounding_box(), wrap.bounding_box()
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    name_cell = page.locator("table.records tbody td.lead").first
    assert name_cell.bounding_box()["x"] < frame["x"] + 80  # the name stays at the left edge
    expect(name_cell).to_be_visible()
    wrap.evaluate("el => { el.scrollTop = el.scrollHeight; }")  # down to the last rows
    head = page.get_by_role("columnheader", name="Name").first
    assert abs(head.bounding_box()["y"] - frame["y"]) < 4, (head.bounding_box(), frame)  # the header sticks
    page.screenshot(path="test-artifacts/wide-list-1440.png")
    assert not page.errors
