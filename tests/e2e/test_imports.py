"""Importing a CSV in the browser (upload, map, preview, import, the polled progress bar reaching 100%)
and merging two duplicates. The worker's part is played by the test calling the job runner while the
page polls, so the page is seen waiting first and then finishing on its own."""

import pytest
from playwright.sync_api import expect

from crm.automation import jobs
from crm.dataio.models import ImportBatch
from crm.records.models import Contact
from crm.records.services import contacts
from tests.e2e.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CSV = b"First Name,Last Name,E-mail Address,Shoe\nAnn,Lee,ann@acme.example,38\nBob,Stone,bob@acme.example,44\n"


@pytest.fixture
def boss(db, settings, tmp_path):
    from tests.factories import UserFactory

    settings.VAR_DIR = tmp_path
    return UserFactory(username="morgan", first_name="Morgan", role="sales-manager")


def test_import_a_csv_and_watch_it_finish(open_page, boss):
    page = open_page(boss)
    page.goto("/contacts/")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File (CSV or XLSX").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Which column feeds which field?")
    expect(page.get_by_label("E-mail Address")).to_have_value("email")  # suggested from the header
    expect(page.get_by_label("Shoe")).to_have_value("")
    page.get_by_label("Last Name").select_option("last_name")
    shot(page, "import-map-1440")
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#import-checking")).to_contain_text("Waiting for a worker")  # the check is a job too
    assert jobs.run_due() == 1
    expect(page.locator('[data-count="create"]')).to_have_text("2", timeout=15_000)  # the page reloads itself
    assert not Contact.objects.exists()
    shot(page, "import-preview-1440")
    page.get_by_role("button", name="Import", exact=True).click()

    status = page.locator("#import-status")
    expect(status).to_contain_text("Waiting for a worker")
    batch = ImportBatch.objects.get(dry_run=False)
    assert batch.status == "queued"
    assert jobs.run_due() == 1  # the worker runs it; the page finds out by polling
    expect(status).to_contain_text("Imported", timeout=15_000)
    expect(status.locator("[data-percent]")).to_have_text("100%")
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    expect(status.locator('[data-count="create"]')).to_have_text("2")
    shot(page, "import-done-1440")

    status.get_by_role("link", name="Open contacts").click()
    expect(page.locator("table.records")).to_contain_text("Ann Lee")
    expect(page.locator("table.records")).to_contain_text("Bob Stone")
    assert not page.errors


def test_merge_two_duplicates(open_page, boss):
    a = contacts.contact_create(
        actor=boss, data={"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.example", "title": "CTO"}
    ).obj
    b = contacts.contact_create(
        actor=boss, data={"first_name": "Anne", "last_name": "Lee", "email": "ann@acme.example", "city": "Oslo"}
    ).obj
    page = open_page(boss)
    page.goto("/contacts/")
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_role("button", name="Find duplicates").click()
    expect(page.locator("#dup-scanning")).to_contain_text("Waiting for a worker")
    assert jobs.run_due() == 1  # the worker scans; the page finds out by polling and reloads
    expect(page.locator("table.records")).to_contain_text("same email", timeout=15_000)
    page.get_by_role("link", name="Merge Ann Lee and Anne Lee").click()

    page.get_by_label("First name: Anne").check()
    page.get_by_role("radio", name="Anne Lee").check()  # keep b
    page.get_by_label("I understand").check()
    shot(page, "merge-page-1440")
    page.get_by_role("button", name="Merge").click()

    expect(page).to_have_url(f"/contacts/{b.pk}/")
    expect(page.locator(".messages")).to_contain_text("Merged “Ann Lee” into “Anne Lee”.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anne Lee")
    assert not Contact.objects.filter(pk=a.pk).exists()
    b.refresh_from_db()
    assert (b.first_name, b.title, b.city) == ("Anne", "CTO", "Oslo")
    shot(page, "merge-done-1440")
    assert not page.errors
