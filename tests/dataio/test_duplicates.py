"""The duplicate finder: exact evidence (email, phone, domain), fuzzy names within blocks, visibility."""

import pytest

from crm.dataio.duplicates import company_name, find
from crm.records.models import Contact
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def make(actor, **data):
    return contact_create(actor=actor, data=data).obj


def pairs_of(items):
    return {frozenset((i["a"]["id"], i["b"]["id"])): i for i in items}


def test_contacts_found_by_email_phone_and_fuzzy_name(manager):
    acme = CompanyFactory(name="Acme", owner=manager)
    jon = make(manager, first_name="Jonathan", last_name="Smith", email="jon@acme.com", company_id=acme.pk)
    jon2 = make(manager, first_name="Jonathon", last_name="Smith", email="JON@acme.com")
    kate = make(manager, first_name="Kate", last_name="Moss", phone="(202) 555-0100")
    kate2 = make(manager, first_name="K.", last_name="Jones", phone="+1 202 555 0100")
    bill = make(manager, first_name="Bill", last_name="Gates", company_id=acme.pk)
    bil2 = make(manager, first_name="Bill", last_name="Gates", company_id=acme.pk)
    make(manager, first_name="Zoe", last_name="Smithers")  # same block as the Smiths, different name

    found = pairs_of(find(manager, "contacts", min_score=0))
    assert found[frozenset((jon.pk, jon2.pk))]["reasons"]["email"] == 1
    assert found[frozenset((jon.pk, jon2.pk))]["reasons"]["name"] >= 85
    assert found[frozenset((kate.pk, kate2.pk))]["reasons"] == {"phone": 1}
    gates = found[frozenset((bill.pk, bil2.pk))]
    assert gates["reasons"] == {"name": 100, "same_company": 1} and gates["score"] == 60
    assert len(found) == 3  # Zoe Smithers matches nobody
    ranked = find(manager, "contacts")
    assert ranked[0]["score"] == 100 and {ranked[0]["a"]["id"], ranked[0]["b"]["id"]} == {jon.pk, jon2.pk}
    assert ranked[0]["a"]["name"] in ("Jonathan Smith", "Jonathon Smith")


def test_only_visible_records_are_compared(rep_a, rep_b):
    mine = make(rep_a, first_name="Ann", last_name="Lee", email="ann@x.com")
    make(rep_b, first_name="Ann", last_name="Lee", email="ann@x.com")
    assert find(rep_a, "contacts", min_score=0) == []
    other_mine = make(rep_a, first_name="Anne", last_name="Lee")
    (only,) = find(rep_a, "contacts", min_score=0)
    assert {only["a"]["id"], only["b"]["id"]} == {mine.pk, other_mine.pk}


def test_companies_by_domain_phone_and_name(manager):
    a = company_create(actor=manager, data={"name": "Globex Corporation", "domain": "globex.com"}).obj
    b = company_create(actor=manager, data={"name": "Something Else", "domain": "https://www.globex.com"}).obj
    c = company_create(actor=manager, data={"name": "Globex, Inc.", "phone": "+12025550111"}).obj
    d = company_create(actor=manager, data={"name": "Initech", "phone": "(202) 555-0111"}).obj
    found = pairs_of(find(manager, "companies", min_score=0))
    assert found[frozenset((a.pk, b.pk))]["reasons"] == {"domain": 1}
    assert found[frozenset((a.pk, c.pk))]["reasons"] == {"name": 100}
    assert found[frozenset((c.pk, d.pk))]["reasons"] == {"phone": 1}
    assert company_name("ACME Ltd.") == company_name("Acme") == "acme"


def test_big_blocks_stay_bounded(manager):
    # 80 people sharing a last name: each compared only with its 50 name neighbours, yet twins still pair.
    people = [Contact(first_name=f"Person{i:03d}x", last_name="Nguyen", owner=manager) for i in range(80)]
    people.append(Contact(first_name="Person007x", last_name="Nguyen", owner=manager))
    for p in people:
        p.name = f"{p.first_name} {p.last_name}"
    Contact.objects.bulk_create(people)
    twin = Contact.objects.order_by("-pk").first()
    found = find(manager, "contacts", min_score=0, limit=1000)
    twins = [p for p in found if twin.pk in (p["a"]["id"], p["b"]["id"]) and p["reasons"]["name"] == 100]
    assert len(twins) == 1
    assert len(found) <= 81 * 50


def test_api(api, manager, readonly):
    make(manager, first_name="Ann", last_name="Lee", email="ann@x.com")
    make(manager, first_name="Ann", last_name="Lee", email="ann@x.com")
    response = api(manager).get("/duplicates/contacts", {"min_score": 90})
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["score"] == 100 and item["reasons"] == {"email": 1, "name": 100}
    assert api(manager).get("/duplicates/deals").status_code == 400
    assert api(manager).get("/duplicates/contacts", {"limit": 0}).status_code == 400
    assert api(manager).get("/duplicates/contacts", {"min_score": 101}).status_code == 400
    # read-only sees everyone: the finder shows the same pair (it merges nothing)
    assert len(api(readonly).get("/duplicates/contacts").json()["items"]) == 1


def test_records_with_the_very_same_name_are_chained_to_the_first(manager):
    same = [make(manager, first_name="John", last_name="Smith") for _ in range(4)]
    near = make(manager, first_name="Jon", last_name="Smith")
    found = pairs_of(find(manager, "contacts", min_score=0))
    first = same[0].pk
    assert set(found) == {frozenset((first, c.pk)) for c in [*same[1:], near]}  # 4 pairs, not 6 + 4
    assert found[frozenset((first, near.pk))]["reasons"]["name"] >= 85


def test_pairs_are_packed_and_unpacked_losslessly():
    from crm.dataio.duplicates import Pairs

    pairs = Pairs()
    pairs.add(2**39 - 1, 7, "name", 91)
    pairs.add(7, 2**39 - 1, "phone")
    pairs.add(7, 2**39 - 1, "name", 88)  # the best name score stays
    [pair] = list(pairs.pairs())
    assert (pair.a, pair.b, pair.reasons) == (7, 2**39 - 1, {"phone": 1, "name": 91})
    assert pair.score == 40 + 46


def test_a_scan_runs_in_the_background_and_drops_pairs_that_are_gone(manager, rep_a, api):
    from crm.automation import jobs
    from crm.records.services.contacts import contact_delete

    a = make(manager, first_name="Ann", last_name="Lee", email="ann@x.com")
    b = make(manager, first_name="Anne", last_name="Lee", email="ann@x.com")
    c = make(manager, first_name="Bo", last_name="Ek", phone="(202) 555-0100")
    d = make(manager, first_name="Bob", last_name="Ek", phone="+12025550100")
    client = api(manager)
    r = client.post("/duplicates/contacts/scans")
    assert r.status_code == 202 and r.json()["status"] == "queued" and r.json()["items"] == []
    jobs.run_due()
    scan = client.get(f"/duplicates/scans/{r.json()['id']}").json()
    assert scan["status"] == "done" and scan["seconds"] is not None
    assert {frozenset((i["a"]["id"], i["b"]["id"])) for i in scan["items"]} == {
        frozenset((a.pk, b.pk)),
        frozenset((c.pk, d.pk)),
    }
    contact_delete(d, actor=manager)  # merged or deleted since the scan: the pair is not shown
    scan = client.get(f"/duplicates/scans/{r.json()['id']}").json()
    assert [{i["a"]["id"], i["b"]["id"]} for i in scan["items"]] == [{a.pk, b.pk}]
    assert api(rep_a).get(f"/duplicates/scans/{r.json()['id']}").status_code == 404  # another user's scan
    assert client.post("/duplicates/deals/scans").status_code == 400
