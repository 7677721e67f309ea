"""The bulk services write what the one-at-a-time services write: same rows, change log, search
index, events; bad items are reported in their slot and the rest are written."""

import pytest
from django.db import transaction

from crm.audit.models import ObjectChange
from crm.core import events, rawinsert
from crm.core.errors import ValidationFailed
from crm.core.normalize import _validated_email, normalize_email, normalize_phone, phone_search_tokens
from crm.customization.models import CustomField
from crm.records.models import Contact, ContactEmail
from crm.records.services import bulk
from crm.records.services.contacts import contact_create, contact_create_many
from crm.search.query import search
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

ANN = {
    "first_name": "Ann",
    "last_name": "Lee",
    "title": "CTO",
    "emails": [{"email": "Ann@Acme.com", "kind": "work"}, {"email": "ann@home.org", "kind": "home"}],
    "phones": [{"number": "(202) 555-0100", "kind": "work"}],
    "tags": ["vip", "East"],
    "custom_fields": {"tier": "gold"},
}


@pytest.fixture
def tier(db):
    return CustomField.objects.create(object_type="contact", key="tier", label="Tier", field_type="text")


def comparable(contact: Contact) -> dict:
    change = ObjectChange.objects.get(object_type="contact", object_id=contact.pk, action="create")
    return {
        "fields": {f: getattr(contact, f) for f in ("name", "email", "phone", "title", "custom_fields", "owner_id")},
        "emails": list(contact.emails.values_list("email", "kind", "is_primary")),
        "phones": list(contact.phones.values_list("number", "kind", "is_primary")),
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "changes": change.changes,
        "version": contact.version,
    }


def test_bulk_create_writes_what_contact_create_writes(manager, tier):
    one = contact_create(actor=manager, data=dict(ANN)).obj
    one_view = comparable(Contact.objects.get(pk=one.pk))
    one.delete()
    ContactEmail.objects.all().delete()
    [many] = contact_create_many(actor=manager, items=[dict(ANN)])
    assert isinstance(many, Contact)
    assert comparable(Contact.objects.get(pk=many.pk)) == one_view
    assert [r.pk for r in search(manager, "ann lee", types=["contact"])["contact"]] == [many.pk]
    assert [r.pk for r in search(manager, "5550100", types=["contact"])["contact"]] == [many.pk]


def test_bad_items_are_reported_in_their_slot_and_the_rest_written(manager, rep_b, tier):
    acme = CompanyFactory(name="Acme", owner=manager)
    hidden_company = CompanyFactory(name="Hidden", owner=rep_b)  # manager's team cannot see it
    items = [
        {"first_name": "Ok", "company_id": acme.pk},
        {"emails": [{"email": "nope"}]},
        {"first_name": "X", "owner_id": 999_999},
        {"first_name": "Y", "company_id": hidden_company.pk},
        {"first_name": "Z", "custom_fields": {"nope": 1}},
        {"title": "nameless"},
        {"first_name": "W", "lifecycle_stage": "not-a-stage"},
        {"first_name": "V" * 101},
    ]
    results = contact_create_many(actor=manager, items=items)
    assert isinstance(results[0], Contact) and results[0].company_id == acme.pk
    errors = [r.fields for r in results[1:]]
    assert all(isinstance(r, ValidationFailed) for r in results[1:])
    assert "emails.0" in errors[0]
    assert errors[1] == {"owner_id": "No active user with id 999999."}
    assert errors[2] == {"company_id": f"No company with id {hidden_company.pk}."}
    assert "custom_fields.nope" in errors[3]
    assert errors[4] == {"first_name": "A contact needs a name, an email or a phone."}
    assert "lifecycle_stage" in errors[5]
    assert "first_name" in errors[6]  # longer than 100: Django's own message
    assert Contact.objects.count() == 1


def test_a_record_the_actor_could_not_see_is_not_written(rep_a, rep_b):
    results = contact_create_many(
        actor=rep_a, items=[{"first_name": "Mine"}, {"first_name": "Theirs", "owner_id": rep_b.pk}]
    )
    assert isinstance(results[0], Contact)
    assert results[1].fields == {
        "owner_id": "You may not save a record you would not be able to see (check the owner)."
    }
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Mine"]
    assert not ObjectChange.objects.filter(object_repr__contains="Theirs").exists()


def test_events_are_one_per_record_after_commit(manager, django_capture_on_commit_callbacks):
    seen = []

    def subscriber(event):
        # Lookups shared by the batch: loaded once for the whole dispatch.
        events.cached("probe", lambda: seen.append("loaded"))
        seen.append((event.type, event.object_id))

    events.subscribe(subscriber)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            created = contact_create_many(actor=manager, items=[{"first_name": "A"}, {"first_name": "B"}])
    finally:
        events.unsubscribe(subscriber)
    assert seen == ["loaded", ("record.created", created[0].pk), ("record.created", created[1].pk)]


def test_delete_many_logs_each_record_and_cleans_the_index(manager):
    created = contact_create_many(actor=manager, items=[dict(ANN, custom_fields={}), {"first_name": "Bo"}])
    assert bulk.delete_many(Contact, [c.pk for c in created], actor=manager) == 2
    assert not Contact.objects.exists()
    logged = ObjectChange.objects.get(object_type="contact", object_id=created[0].pk, action="delete")
    assert logged.changes["emails"] == [["ann@acme.com (work)", "ann@home.org (home)"], None]
    assert logged.changes["tags"] == [["East", "vip"], None]
    assert search(manager, "ann", types=["contact"])["contact"] == []


def test_delete_many_skips_what_the_actor_may_not_delete(rep_a, manager):
    theirs = contact_create_many(actor=manager, items=[{"first_name": "Kept"}])[0]
    assert bulk.delete_many(Contact, [theirs.pk], actor=rep_a) == 0
    assert Contact.objects.filter(pk=theirs.pk).exists()


def test_ids_taken_up_front_never_reuse_a_deleted_records_id(manager):
    newest = contact_create(actor=manager, data={"first_name": "Last"}).obj
    last_id = newest.pk
    newest.delete()
    with transaction.atomic():
        [fresh] = rawinsert.next_ids(Contact, 1)
    assert fresh > last_id


@pytest.mark.parametrize(
    "raw",
    [
        "John.Smith@Example.com",
        "a+b@sub.example.co.uk",
        "x..y@example.com",
        ".x@example.com",
        "a@localhost",
        "a@b.local",
        "a@-b.com",
        "a@b.123",
        "ü@example.com",
        "a@exämple.com",
        '"q"@example.com',
        "a@[1.2.3.4]",
        "a" * 65 + "@x.com",
        "a@" + "b" * 64 + ".com",
        "a@x_y.com",
        " A@B.Com ",
    ],
)
def test_fast_email_check_agrees_with_email_validator(raw):
    def outcome(fn):
        try:
            return fn(raw.strip())
        except ValueError:
            return "invalid"

    assert outcome(normalize_email) == outcome(_validated_email)


def test_phone_tokens_are_the_same_with_and_without_the_parse_cache():
    e164 = normalize_phone("(202) 555-0100")
    cached = phone_search_tokens(e164)
    from crm.core import normalize

    normalize._NATIONAL.clear()
    assert phone_search_tokens(e164) == cached == ["12025550100", "2025550100", "5550100"]


def test_bulk_company_create_writes_what_company_create_writes(manager):
    from crm.records.models import Company
    from crm.records.services.companies import company_create, company_create_many

    data = {"name": "Acme", "domain": "https://www.Acme.com/x", "phone": "(202) 555-0100", "tags": ["b2b"]}
    data |= {"website": "https://acme.com", "annual_revenue": "1200.5", "size": "11-50"}

    def view(company):
        change = ObjectChange.objects.get(object_type="company", object_id=company.pk, action="create")
        fields = ("name", "domain", "phone", "website", "annual_revenue", "size", "owner_id")
        return {f: getattr(company, f) for f in fields} | {
            "domains": list(company.domains.values_list("domain", flat=True)),
            "tags": list(company.tags.values_list("name", flat=True)),
            "changes": change.changes,
        }

    one = company_create(actor=manager, data=dict(data)).obj
    expected = view(Company.objects.get(pk=one.pk))
    one.delete()
    results = company_create_many(actor=manager, items=[dict(data), {"name": "Bad", "domain": "not a domain"}, {}])
    assert view(Company.objects.get(pk=results[0].pk)) == expected
    assert set(results[1].fields) == {"domain"}
    assert set(results[2].fields) == {"name"}


def test_bulk_lead_create_writes_what_lead_create_writes(manager):
    from crm.records.models import Lead
    from crm.records.services.leads import lead_create, lead_create_many

    data = {"first_name": "Lia", "company_name": "Acme", "email": "Lia@Acme.com", "phone": "(202) 555-0101"}
    data |= {"status": "disqualified", "disqualified_reason": "No budget", "tags": ["fair"]}

    def view(lead):
        change = ObjectChange.objects.get(object_type="lead", object_id=lead.pk, action="create")
        fields = ("name", "email", "phone", "status", "disqualified_reason", "owner_id", "custom_fields")
        return {f: getattr(lead, f) for f in fields} | {"changes": change.changes}

    one = lead_create(actor=manager, data=dict(data)).obj
    expected = view(Lead.objects.get(pk=one.pk))
    one.delete()
    items = [dict(data), {"status": "disqualified", "first_name": "X"}, {"title": "nobody"}]
    results = lead_create_many(actor=manager, items=items)
    assert view(Lead.objects.get(pk=results[0].pk)) == expected
    assert set(results[1].fields) == {"disqualified_reason"}
    assert set(results[2].fields) == {"last_name"}
