"""The import wizard's "create the companies" checkbox: shown for contacts when a column feeds the
company, carried from the mapping to the dry run and the real import, and its counts shown."""

import re

import pytest

from crm.automation import jobs
from crm.dataio.models import ImportBatch
from crm.records.models import Company, Contact
from tests.web.test_imports import _var_dir, mapping_form, token_of, upload  # noqa: F401 (the fixture)

CSV = "Name,E-mail Address,Organization\nAnn Lee,ann@x.example,Initech\nBob Roe,bob@x.example,INITECH\n"
BOX = 'name="create_companies"'


@pytest.mark.django_db
def test_the_wizard_creates_the_companies_when_asked(web, manager):
    client = web(manager)
    token = token_of(upload(client, CSV))
    page = client.get(f"/imports/wizard/{token}/map/")
    assert BOX in page.content.decode()  # "Organization" is mapped to the company
    r = client.post(f"/imports/wizard/{token}/map/", {**mapping_form(page), "create_companies": "on"})
    assert r.status_code == 302
    jobs.run_due()
    dry = ImportBatch.objects.get(dry_run=True)
    assert dry.create_companies and dry.counts["companies_created"] == 1
    preview = client.get(f"/imports/wizard/{token}/preview/").content.decode()
    assert re.search(r"1 company will be created; 2 contacts linked to a company", preview), preview
    assert not Company.objects.exists()

    client.post(f"/imports/wizard/{token}/start/")
    jobs.run_due()
    batch = ImportBatch.objects.get(dry_run=False)
    assert batch.status == "done" and batch.create_companies and batch.counts["companies_linked"] == 2
    initech = Company.objects.get()
    assert initech.name == "Initech" and set(Contact.objects.values_list("company_id", flat=True)) == {initech.pk}


@pytest.mark.django_db
def test_no_checkbox_without_a_company_column(web, manager):
    client = web(manager)
    token = token_of(upload(client, "Name,E-mail Address\nAnn Lee,ann@x.example\n"))
    assert BOX not in client.get(f"/imports/wizard/{token}/map/").content.decode()
    assert BOX not in client.get(f"/imports/wizard/{token_of(upload(client, CSV, 'companies'))}/map/").content.decode()
