"""The fast serialization of hot reads (crm/records/api/fast.py): the JSON the API sends for lists,
details and updates is exactly what the declared output schema renders, key order included."""

import json

import pytest
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from crm.customization.models import CustomField
from crm.records.api import schemas as s
from crm.records.api.routes import RESOURCES
from crm.records.api.timeline import Entry, _entry
from crm.records.models import Company, Contact, Deal
from crm.records.timeline import timeline

pytestmark = pytest.mark.django_db


def schema_json(schema, obj) -> str:
    """What Ninja renders through the response schema (python-mode dump, then its JSON encoder)."""
    return json.dumps(schema.from_orm(obj).model_dump(), cls=NinjaJSONEncoder)


@pytest.fixture
def records(api, rep_a, pipeline):
    CustomField.objects.create(object_type="contact", key="nps", label="NPS", field_type="integer")
    client = api(rep_a)
    old = client.post("/companies", {"name": "Old Co", "domains": ["old.example"], "tags": ["b2b", "vip"]})
    new = client.post("/companies", {"name": "New Co"}).json()
    contact = client.post("/contacts", {
        "first_name": "Ada", "last_name": "Lovelace", "title": "CTO", "company_id": old.json()["id"],
        "emails": [{"email": "ada@old.example", "kind": "work", "primary": True},
                   {"email": "ada@home.example", "kind": "home"}],
        "phones": [{"number": "+1 202 555 0100", "kind": "mobile"}, {"number": "+1 202 555 0199", "kind": "work"}],
        "tags": ["vip", "alpha"], "custom_fields": {"nps": 9},
    }).json()  # fmt: skip
    # Moving company keeps the old one in past_companies.
    assert client.patch(f"/contacts/{contact['id']}", {"company_id": new["id"]}).status_code == 200
    other = client.post("/contacts", {"first_name": "Bob"}).json()
    deal = client.post("/deals", {
        "name": "Big one", "amount": "1200.50", "company_id": new["id"], "tags": ["q3"],
        "contacts": [{"contact_id": contact["id"], "role": "champion"}, {"contact_id": other["id"]}],
    })  # fmt: skip
    assert deal.status_code == 201, deal.content
    return client, Contact.objects.get(pk=contact["id"]), Deal.objects.get(pk=deal.json()["id"]), old.json()["id"]


def test_detail_list_and_update_send_the_schema_json(records):
    client, contact, deal, company_id = records
    assert contact.past_companies.count() == 1 and contact.phones.count() == 2 and deal.contacts.count() == 2
    for path, schema, obj in [
        (f"/contacts/{contact.pk}", s.ContactOut, contact),
        (f"/deals/{deal.pk}", s.DealOut, deal),
        (f"/companies/{company_id}", s.CompanyOut, Company.objects.get(pk=company_id)),
    ]:
        r = client.get(path)
        assert r.status_code == 200 and r["ETag"] == f'"{obj.version}"'
        assert r.content.decode() == schema_json(schema, obj)
    page = client.get("/contacts", {"sort": "name"})
    items = json.loads(page.content)["items"]
    assert [json.dumps(i, cls=NinjaJSONEncoder) for i in items] == [
        schema_json(s.ContactOut, c) for c in Contact.objects.order_by("name", "pk")
    ]
    page = client.get("/deals")
    assert page.content.decode() == json.dumps(
        {"items": [json.loads(schema_json(s.DealOut, deal))], "next": None}, cls=NinjaJSONEncoder
    )
    r = client.patch(f"/deals/{deal.pk}", {"name": "Bigger one"})
    deal.refresh_from_db()
    assert r.status_code == 200 and r.content.decode() == schema_json(s.DealOut, deal)


def test_lists_stay_restricted(records, api, rep_b):
    _, contact, deal, _ = records
    client = api(rep_b)
    assert client.get("/contacts").json()["items"] == []
    assert client.get(f"/contacts/{contact.pk}").status_code == 404
    assert client.get(f"/deals/{deal.pk}").status_code == 404


def test_every_fast_type_knows_all_its_schema_fields():
    fast = {name for name, res in RESOURCES.items() if res.fast}
    assert fast == {"companies", "contacts", "deals"}


def test_timeline_sends_the_schema_json(records, rep_a):
    client, contact, deal, _ = records
    r = client.post(
        "/activities", {"kind": "call", "subject": "Intro", "contact_id": contact.pk, "duration_minutes": 5}
    )
    assert r.status_code == 201, r.content
    r = client.post("/tasks", {"title": "Send deck", "contact_id": contact.pk, "due_at": "2030-01-02T03:04:05Z"})
    assert r.status_code == 201, r.content
    for path, record in ((f"/contacts/{contact.pk}/timeline", contact), (f"/deals/{deal.pk}/timeline", deal)):
        r = client.get(path)
        assert r.status_code == 200
        # The same entries validated through the declared schema and rendered as Ninja renders them.
        entries = [_entry(e) for e in timeline(record, rep_a, limit=50)]
        assert r.content.decode() == json.dumps(TimelineOut(items=entries).model_dump()["items"], cls=NinjaJSONEncoder)
    kinds = [e["kind"] for e in json.loads(client.get(f"/contacts/{contact.pk}/timeline").content)]
    assert {"activity", "task", "change"} <= set(kinds)


class TimelineOut(Schema):
    items: list[Entry]
