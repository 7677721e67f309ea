"""Duplicates review (scored pairs side by side) and the merge page: the picked values survive, the
other record is deleted with its related records moved, and only users who may change and delete
both records get there."""

import re

import pytest

from crm.audit.models import ObjectChange
from crm.automation import jobs
from crm.customization.models import CustomField
from crm.dataio.models import DuplicateScan
from crm.records.models import Activity, Company, Contact
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from tests.factories import ActivityFactory


@pytest.fixture
def twins(manager, rep_a, acme):
    """Two contacts of the same person, visible to the manager (rep_a is in the manager's team)."""
    CustomField.objects.create(object_type="contact", key="shoe", label="Shoe size", field_type="text")
    a = contact_create(
        actor=rep_a,
        data={"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.example", "title": "CTO"},
    ).obj
    b = contact_create(
        actor=manager,
        data={
            "first_name": "Anne",
            "last_name": "Lee",
            "emails": [{"email": "ann.lee@home.example", "primary": True}, {"email": "ann@acme.example"}],
            "phone": "+12025550100",
            "company_id": acme.pk,
            "custom_fields": {"shoe": "38"},
        },
    ).obj
    contact_create(actor=rep_a, data={"first_name": "Zed", "last_name": "Zulu", "email": "zed@z.example"})
    return a, b


def scanned(client, object_type: str):
    """Start a scan from the page, let the worker run it, then load the page."""
    assert client.post(f"/duplicates/{object_type}/").status_code == 302
    jobs.run_due()
    return client.get(f"/duplicates/{object_type}/")


def test_pairs_are_listed_with_score_reasons_and_both_records(web, manager, twins):
    a, b = twins
    client = web(manager)
    first = client.get("/duplicates/contacts/").content.decode()
    assert "No scan yet" in first and "Find duplicates" in first
    assert client.post("/duplicates/contacts/").status_code == 302
    waiting = client.get("/duplicates/contacts/").content.decode()
    assert "Waiting for a worker" in waiting and 'hx-trigger="every 2s"' in waiting
    assert client.post("/duplicates/contacts/").status_code == 302  # a second click queues nothing more
    assert DuplicateScan.objects.count() == 1
    jobs.run_due()
    done = client.get("/duplicates/contacts/", HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    r = client.get("/duplicates/contacts/")
    body = r.content.decode()
    assert r.status_code == 200
    assert f'href="/contacts/{a.pk}/"' in body and f'href="/contacts/{b.pk}/"' in body
    assert "same email" in body and "ann.lee@home.example" in body and "Acme Corp" in body
    assert f'href="/duplicates/contacts/merge/{a.pk}/{b.pk}/"' in body
    assert "Zed Zulu" not in body  # no pair: not listed


def test_merge_page_shows_each_differing_field_and_merges_the_picks(web, manager, twins):
    a, b = twins
    note = ActivityFactory(contact=b, subject="Call about renewal")
    client = web(manager)
    page = client.get(f"/duplicates/contacts/merge/{a.pk}/{b.pk}/").content.decode()
    for label, a_value, b_value in [
        ("First name", "Ann", "Anne"),
        ("Title", "CTO", "—"),
        ("Company", "—", "Acme Corp"),
        ("Shoe size", "—", "38"),
    ]:
        assert re.search(rf"<th scope=\"row\">{label}</th>\s*<td>.*?{a_value}.*?</td>\s*<td>.*?{b_value}", page, re.S)
    assert 'name="pick_last_name"' not in page  # the same on both: nothing to choose
    assert re.search(r'name="pick_company" value="b" checked', page)  # a has none: b's is kept by default

    r = client.post(
        f"/duplicates/contacts/merge/{a.pk}/{b.pk}/",
        {"survivor": "b", "pick_first_name": "a", "pick_title": "a", "pick_company": "b", "confirm": "yes"},
        follow=True,
    )
    assert r.redirect_chain[-1][0] == f"/contacts/{b.pk}/"
    assert "Merged “Ann Lee” into “Ann Lee”." in r.content.decode()
    assert not Contact.objects.filter(pk=a.pk).exists()
    b.refresh_from_db()
    assert (b.first_name, b.title, b.company.name, b.custom_fields) == ("Ann", "CTO", "Acme Corp", {"shoe": "38"})
    assert Activity.objects.get(pk=note.pk).linked_ids("contact") == [b.pk]
    assert ObjectChange.objects.filter(object_type="contact", object_id=b.pk, action="merge").exists()


def test_merge_needs_the_confirmation(web, manager, twins):
    a, b = twins
    r = web(manager).post(f"/duplicates/contacts/merge/{a.pk}/{b.pk}/", {"survivor": "a"})
    assert r.status_code == 400 and "Tick the box to confirm the merge." in r.content.decode()
    assert Contact.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_a_bad_pick_is_refused_with_a_message(web, manager, twins):
    a, b = twins
    r = web(manager).post(
        f"/duplicates/contacts/merge/{a.pk}/{b.pk}/", {"survivor": "a", "pick_title": "c", "confirm": "yes"}
    )
    assert r.status_code == 400 and "Choose a value for Title." in r.content.decode()
    assert Contact.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_companies_merge_keeps_the_survivors_domain_unless_the_others_is_picked(web, manager, rep_a):
    one = company_create(actor=rep_a, data={"name": "Globex", "domain": "globex.example"}).obj
    two = company_create(actor=rep_a, data={"name": "Globex Inc", "domain": "globex.example", "industry": "Energy"})
    two = two.obj
    client = web(manager)
    assert f"/duplicates/companies/merge/{one.pk}/{two.pk}/" in scanned(client, "companies").content.decode()
    r = client.post(
        f"/duplicates/companies/merge/{one.pk}/{two.pk}/",
        {"survivor": "a", "pick_name": "b", "pick_industry": "b", "confirm": "yes"},
    )
    assert r.status_code == 302 and r["Location"] == f"/companies/{one.pk}/"
    one.refresh_from_db()
    assert (one.name, one.industry, one.domain) == ("Globex Inc", "Energy", "globex.example")
    assert not Company.objects.filter(pk=two.pk).exists()


def test_who_may_merge(web, manager, rep_a, rep_b, readonly, twins):
    a, b = twins
    path = f"/duplicates/contacts/merge/{a.pk}/{b.pk}/"
    # A sales rep may change contacts but not delete them: no merge link, and the page is refused.
    zed = Contact.objects.get(last_name="Zulu")
    own = f"/duplicates/contacts/merge/{a.pk}/{zed.pk}/"
    assert "Merge…" not in scanned(web(rep_a), "contacts").content.decode()
    assert web(rep_a).get(own).status_code == 403
    assert web(rep_a).post(own, {"survivor": "a", "confirm": "yes"}).status_code == 403
    assert web(rep_a).get(path).status_code == 404  # b is the manager's: not visible to rep_a
    assert web(readonly).get(path).status_code == 403  # sees both, may not change them
    hidden = contact_create(actor=rep_b, data={"first_name": "Ann", "last_name": "Lee"}).obj
    assert web(manager).get(f"/duplicates/contacts/merge/{a.pk}/{hidden.pk}/").status_code == 404  # not visible
    assert web(manager).get(f"/duplicates/contacts/merge/{a.pk}/{a.pk}/").status_code == 404
    assert web(manager).get("/duplicates/deals/").status_code == 404
    assert Contact.objects.filter(pk__in=[a.pk, b.pk, zed.pk, hidden.pk]).count() == 4
    assert 'href="/duplicates/contacts/"' in web(manager).get("/contacts/").content.decode()
    assert 'href="/duplicates/contacts/"' not in web(rep_a).get("/contacts/").content.decode()


def test_names_are_escaped(web, manager, rep_a):
    for _ in range(2):
        contact_create(actor=rep_a, data={"first_name": "<b>Evil</b>", "last_name": "Twin", "email": "e@t.example"})
    body = scanned(web(manager), "contacts").content.decode()
    assert "&lt;b&gt;Evil&lt;/b&gt;" in body and "<b>Evil</b>" not in body
