"""Merging contacts and companies: chosen values win, every related record moves, nothing is lost."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.dataio.merge import company_merge, contact_merge
from crm.records.models import Activity, Company, Contact, DealContact, Lead, PastCompany, Task
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from tests.factories import ActivityFactory, CompanyFactory, DealFactory, LeadFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(manager, rep_a, pipeline):
    CustomField.objects.create(object_type="contact", key="shoe", label="Shoe", field_type="text")
    CustomField.objects.create(object_type="contact", key="team", label="Team", field_type="text")
    acme = CompanyFactory(name="Acme", owner=manager)
    old = CompanyFactory(name="Oldco", owner=manager)
    a = contact_create(
        actor=manager,
        data={
            "first_name": "Ann",
            "last_name": "Lee",
            "emails": [{"email": "ann@acme.com", "primary": True}, {"email": "shared@x.com", "kind": "home"}],
            "phones": ["+12025550100"],
            "tags": ["vip", "east"],
            "custom_fields": {"team": "red"},
        },
    ).obj
    b = contact_create(
        actor=manager,
        data={
            "first_name": "Anne",
            "last_name": "Lee",
            "title": "CTO",
            "company_id": acme.pk,
            "owner_id": rep_a.pk,
            "emails": [{"email": "anne@lee.org", "primary": True}, {"email": "shared@x.com"}],
            "phones": ["+12025550199", "+12025550100"],
            "tags": ["vip", "west"],
            "custom_fields": {"shoe": "42", "team": "blue"},
            "email_opt_in": True,
            "email_opt_in_source": "webinar",
        },
    ).obj
    both_deal, b_deal = DealFactory(pipeline=pipeline), DealFactory(pipeline=pipeline)
    DealContact.objects.create(deal=both_deal, contact=a, role="champion")
    DealContact.objects.create(deal=both_deal, contact=b, role="user")
    DealContact.objects.create(deal=b_deal, contact=b, role="decision_maker")
    note = ActivityFactory(contact=b)
    meeting = ActivityFactory(kind="meeting")
    meeting.participants.set([a, b])
    call = ActivityFactory(kind="call")
    call.participants.set([b])
    task = TaskFactory(contact=b)
    lead = LeadFactory(converted_contact=b, converted_at=timezone.now())
    past = PastCompany.objects.create(contact=b, company=old, title="Intern", ended_at=timezone.now() - dt.timedelta(1))
    return {
        "a": a,
        "b": b,
        "acme": acme,
        "deals": (both_deal, b_deal),
        "activities": (note, meeting, call),
        "task": task,
        "lead": lead,
        "past": past,
    }


def test_contact_merge_moves_everything(manager, pair):
    a, b = pair["a"], pair["b"]
    b_pk = b.pk
    merged = contact_merge(a, b, actor=manager, choices={"cf_team": "other", "first_name": "survivor"})

    assert not Contact.objects.filter(pk=b_pk).exists()
    merged.refresh_from_db()
    # Survivor values kept, blanks filled from the other, the chosen custom field taken from the other.
    assert (merged.first_name, merged.title, merged.company_id) == ("Ann", "CTO", pair["acme"].pk)
    assert merged.custom_fields == {"team": "blue", "shoe": "42"}
    # Consent: only the other had it, so it moves whole.
    assert merged.email_opt_in and merged.email_opt_in_source == "webinar" and merged.email_opt_in_at
    # Channels: union without duplicates, the survivor's primary stays primary.
    assert [(e.email, e.is_primary) for e in merged.emails.order_by("email")] == [
        ("ann@acme.com", True),
        ("anne@lee.org", False),
        ("shared@x.com", False),
    ]
    assert merged.email == "ann@acme.com"
    assert sorted(merged.phones.values_list("number", flat=True)) == ["+12025550100", "+12025550199"]
    assert merged.phones.filter(is_primary=True).count() == 1 and merged.phone == "+12025550100"
    assert sorted(merged.tags.values_list("name", flat=True)) == ["east", "vip", "west"]
    # Deals: the shared deal keeps one link (the survivor's role), the other deal moves.
    both_deal, b_deal = pair["deals"]
    assert list(DealContact.objects.filter(deal=both_deal).values_list("contact_id", "role")) == [(a.pk, "champion")]
    assert list(DealContact.objects.filter(deal=b_deal).values_list("contact_id", "role")) == [(a.pk, "decision_maker")]
    note, meeting, call = pair["activities"]
    assert Activity.objects.get(pk=note.pk).linked_ids("contact") == [a.pk]
    assert list(meeting.participants.values_list("pk", flat=True)) == [a.pk]
    assert list(call.participants.values_list("pk", flat=True)) == [a.pk]
    assert Task.objects.get(pk=pair["task"].pk).linked_ids("contact") == [a.pk]
    assert Lead.objects.get(pk=pair["lead"].pk).converted_contact_id == a.pk
    assert PastCompany.objects.get(pk=pair["past"].pk).contact_id == a.pk


def test_contact_merge_is_in_the_change_log(manager, pair):
    a, b = pair["a"], pair["b"]
    b_pk = b.pk
    contact_merge(a, b, actor=manager)
    entry = ObjectChange.objects.get(object_type="contact", object_id=a.pk, action="merge")
    merged = entry.changes["merged"][1]
    assert merged["id"] == b_pk and merged["record"]["first_name"] == "Anne"
    assert merged["record"]["emails"] == ["anne@lee.org (work)", "shared@x.com (work)"]
    assert merged["moved"]["records.task.links"] == 1
    assert entry.changes["title"] == ["", "CTO"] and entry.user == manager
    assert ObjectChange.objects.filter(object_type="contact", object_id=b_pk, action="delete").exists()
    assert ObjectChange.objects.get(object_type="contact", object_id=b_pk, action="merge").changes == {
        "merged_into": [None, a.pk]
    }


def test_choices_pick_the_others_primary_email_and_owner(manager, rep_a, pair):
    merged = contact_merge(pair["a"], pair["b"], actor=manager, choices={"email": "other", "owner": "other"})
    assert merged.email == "anne@lee.org" and merged.owner_id == rep_a.pk
    assert merged.emails.get(is_primary=True).email == "anne@lee.org"


def test_bad_choices_and_self_merge_change_nothing(manager, pair):
    from crm.core.errors import BadRequest, ValidationFailed

    a, b = pair["a"], pair["b"]
    with pytest.raises(ValidationFailed) as exc:
        contact_merge(a, b, actor=manager, choices={"colour": "other", "title": "both"})
    assert set(exc.value.fields) == {"choices.colour", "choices.title"}
    with pytest.raises(BadRequest):
        contact_merge(a, a, actor=manager)
    assert Contact.objects.filter(pk=b.pk).exists() and b.emails.count() == 2


def test_company_merge_moves_contacts_deals_domains_and_children(manager, pipeline):
    a = company_create(actor=manager, data={"name": "Acme", "domains": ["acme.com", "acme.io"]}).obj
    b = company_create(
        actor=manager, data={"name": "ACME Inc", "domains": ["acme.io", "acme.org"], "industry": "Tools"}
    ).obj
    child = CompanyFactory(name="Acme Sub", parent=b, owner=manager)
    a.parent = b
    a.save()
    person = contact_create(actor=manager, data={"first_name": "Pat", "company_id": b.pk}).obj
    deal = DealFactory(pipeline=pipeline, company=b)
    lead = LeadFactory(converted_company=b)
    act, task = ActivityFactory(company=b), TaskFactory(company=b)
    past = PastCompany.objects.create(contact=person, company=b, ended_at=timezone.now())

    merged = company_merge(a, b, actor=manager)
    assert not Company.objects.filter(pk=b.pk).exists()
    merged.refresh_from_db()
    assert merged.industry == "Tools" and merged.domain == "acme.com" and merged.parent_id is None
    assert sorted(merged.domains.values_list("domain", flat=True)) == ["acme.com", "acme.io", "acme.org"]
    for obj in (person, deal):
        obj.refresh_from_db()
        assert obj.company_id == a.pk
    assert act.linked_ids("company") == [a.pk] and task.linked_ids("company") == [a.pk]
    assert Company.objects.get(pk=child.pk).parent_id == a.pk
    assert Lead.objects.get(pk=lead.pk).converted_company_id == a.pk
    assert PastCompany.objects.get(pk=past.pk).company_id == a.pk


def test_merge_api(api, manager, rep_a, rep_b, readonly, pair):
    a, b = pair["a"], pair["b"]
    hidden = contact_create(actor=rep_b, data={"first_name": "Hidden"}).obj
    response = api(manager).post("/merge/contacts", {"survivor_id": a.pk, "other_id": hidden.pk})
    assert response.status_code == 422 and "other_id" in response.json()["error"]["fields"]
    assert api(rep_a).post("/merge/contacts", {"survivor_id": b.pk, "other_id": b.pk}).status_code == 400
    assert api(manager).post("/merge/deals", {"survivor_id": 1, "other_id": 2}).status_code == 400
    assert api(readonly).post("/merge/contacts", {"survivor_id": a.pk, "other_id": b.pk}).status_code == 403
    response = api(manager).post(
        "/merge/contacts", {"survivor_id": a.pk, "other_id": b.pk, "choices": {"title": "other"}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == a.pk and body["title"] == "CTO" and len(body["emails"]) == 3
    assert not Contact.objects.filter(pk=b.pk).exists()


def test_sales_rep_cannot_merge_without_delete(api, rep_a):
    a = contact_create(actor=rep_a, data={"first_name": "One"}).obj
    b = contact_create(actor=rep_a, data={"first_name": "Two"}).obj
    response = api(rep_a).post("/merge/contacts", {"survivor_id": a.pk, "other_id": b.pk})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=b.pk).exists()
