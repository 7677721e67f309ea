"""The change log (who changed what, from where) and optimistic versions on every record service."""

import uuid

import pytest

from crm.audit.models import ObjectChange
from crm.core.context import change_context
from crm.core.errors import Conflict
from crm.records.models import Company, Contact, Deal, Lead, Task
from crm.records.services.activities import task_create, task_update
from crm.records.services.companies import company_create, company_delete, company_update
from crm.records.services.contacts import contact_create, contact_delete, contact_update
from crm.records.services.deals import deal_create, deal_update
from crm.records.services.leads import lead_create, lead_update

pytestmark = pytest.mark.django_db


def changes_of(obj):
    return list(ObjectChange.objects.filter(object_type=obj.object_type, object_id=obj.pk).order_by("id"))


def test_create_is_logged_with_actor_and_filled_fields_including_emails_and_tags(rep_a):
    contact = contact_create(
        actor=rep_a,
        data={"first_name": "Ann", "last_name": "Lee", "emails": ["ann@x.com", "ann@home.org"], "tags": ["vip"]},
    ).obj
    [entry] = changes_of(contact)
    assert (entry.action, entry.user, entry.user_name) == ("create", rep_a, "rep_a")
    assert entry.object_repr == "Ann Lee" and entry.source == "system"
    assert entry.changes["first_name"] == [None, "Ann"]
    assert entry.changes["emails"] == [None, ["ann@x.com (work)", "ann@home.org (work)"]]
    assert entry.changes["tags"] == [None, ["vip"]]
    assert entry.changes["owner_id"] == [None, rep_a.pk]
    assert "title" not in entry.changes  # empty fields are left out of a create
    assert not {"version", "created_at", "updated_at"} & entry.changes.keys()


def test_update_logs_only_the_changed_fields_as_before_after(rep_a):
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@x.com", "tags": ["a"]}).obj
    contact_update(contact, actor=rep_a, data={"title": "CTO", "email": "ann@y.com", "tags": ["a", "b"]})
    entry = changes_of(contact)[-1]
    assert entry.action == "update" and entry.user == rep_a
    assert entry.changes == {
        "title": ["", "CTO"],
        "email": ["ann@x.com", "ann@y.com"],
        "emails": [["ann@x.com (work)"], ["ann@y.com (work)"]],
        "tags": [["a"], ["a", "b"]],
    }


def test_company_domains_and_tags_are_in_the_diff(rep_a):
    company = company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com"]}).obj
    company_update(company, actor=rep_a, data={"domains": ["acme.com", "acme.io"], "tags": ["Partner"]})
    entry = changes_of(company)[-1]
    assert entry.changes["domains"] == [["acme.com"], ["acme.com", "acme.io"]]
    assert entry.changes["tags"] == [[], ["Partner"]]


def test_delete_is_logged_with_the_last_state(manager):
    company = company_create(actor=manager, data={"name": "Acme", "industry": "Tools"}).obj
    pk = company.pk
    company_delete(company, actor=manager)  # a manager's role may delete companies (a rep's may not)
    entry = ObjectChange.objects.filter(object_type="company", object_id=pk).order_by("id").last()
    assert (entry.action, entry.user, entry.object_repr) == ("delete", manager, "Acme")
    assert entry.changes["name"] == ["Acme", None] and entry.changes["industry"] == ["Tools", None]
    assert not Company.objects.filter(pk=pk).exists()


def test_source_and_request_id_come_from_the_change_context(rep_a):
    rid = uuid.uuid4()
    with change_context(source="import", request_id=rid):
        contact = contact_create(actor=rep_a, data={"first_name": "Ann"}).obj
    with change_context(source="web"):
        contact_update(contact, actor=rep_a, data={"first_name": "Anne"})
    contact_update(contact, actor=rep_a, data={"first_name": "Annie"})
    entries = changes_of(contact)
    assert [(e.source, e.request_id) for e in entries] == [("import", rid), ("web", None), ("system", None)]


def test_no_row_for_a_no_op_update(rep_a, pipeline):
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@x.com", "tags": ["a"]}).obj
    contact_update(contact, actor=rep_a, data={"first_name": "Ann", "email": "ANN@x.com", "tags": ["A"]})
    assert len(changes_of(contact)) == 1


def test_no_row_when_a_decimal_is_sent_again_in_another_form(rep_a, pipeline):
    # 1000 and "1000.0" are the stored 1000.00: not a change.
    deal = deal_create(actor=rep_a, data={"name": "Pilot", "amount": "1000.00"}).obj
    deal_update(deal, actor=rep_a, data={"amount": 1000})
    deal_update(deal, actor=rep_a, data={"amount": "1000.0"})
    company = company_create(actor=rep_a, data={"name": "Acme", "annual_revenue": 5}).obj
    company_update(company, actor=rep_a, data={"annual_revenue": "5.00"})
    assert [e.action for e in changes_of(deal)] == ["create"]
    assert [e.action for e in changes_of(company)] == ["create"]
    deal_update(deal, actor=rep_a, data={"amount": "1000.5"})
    assert changes_of(deal)[-1].changes["amount"] == ["1000.00", "1000.50"]


def test_no_row_when_a_time_is_sent_again_in_another_time_zone(rep_a):
    task = task_create(actor=rep_a, data={"title": "Call", "due_at": "2025-01-01T10:00:00Z"}).obj
    task_update(task, actor=rep_a, data={"due_at": "2025-01-01T12:00:00+02:00"})
    assert [e.action for e in changes_of(task)] == ["create"]
    assert changes_of(task)[0].changes["due_at"] == [None, "2025-01-01T10:00:00+00:00"]


def test_a_failed_update_logs_nothing(rep_a):
    contact = contact_create(actor=rep_a, data={"first_name": "Ann"}).obj
    with pytest.raises(Exception):  # noqa: B017 - any refusal; what matters is that nothing is logged
        contact_update(contact, actor=rep_a, data={"email": "broken"})
    assert len(changes_of(contact)) == 1


# --- versions ----------------------------------------------------------------------------------


UPDATES = [
    (lambda a: contact_create(actor=a, data={"first_name": "Ann"}).obj, contact_update, {"first_name": "Bob"}),
    (lambda a: company_create(actor=a, data={"name": "Acme"}).obj, company_update, {"name": "Globex"}),
    (lambda a: lead_create(actor=a, data={"last_name": "Lee"}).obj, lead_update, {"last_name": "Ng"}),
    (lambda a: deal_create(actor=a, data={"name": "Pilot"}).obj, deal_update, {"name": "Big"}),
    (lambda a: task_create(actor=a, data={"title": "Call"}).obj, task_update, {"title": "Email"}),
]


@pytest.mark.parametrize("create,update,data", UPDATES, ids=["contact", "company", "lead", "deal", "task"])
def test_stale_version_is_a_conflict_and_changes_nothing(rep_a, pipeline, create, update, data):
    obj = create(rep_a)
    update(obj, actor=rep_a, data={}, version=1)  # someone else saves: version 2
    with pytest.raises(Conflict) as exc:
        update(obj, actor=rep_a, data=data, version=1)
    assert exc.value.code == "version_conflict" and exc.value.fields == {"version": "2"}
    fresh = type(obj).objects.get(pk=obj.pk)
    assert fresh.version == 2
    assert all(getattr(fresh, k) == getattr(obj, k) for k in data)
    assert ObjectChange.objects.filter(object_id=obj.pk, object_type=obj.object_type, action="update").count() == 0


@pytest.mark.parametrize("create,update,data", UPDATES, ids=["contact", "company", "lead", "deal", "task"])
def test_update_without_a_version_succeeds_and_bumps_it(rep_a, pipeline, create, update, data):
    obj = create(rep_a)
    update(obj, actor=rep_a, data={}, version=1)
    saved = update(obj, actor=rep_a, data=data).obj  # a stale in-memory copy, but no version sent
    fresh = type(saved).objects.get(pk=obj.pk)
    assert fresh.version == 3
    assert all(getattr(fresh, k) == v for k, v in data.items())


def test_stale_version_on_delete_is_a_conflict(manager):
    contact = contact_create(actor=manager, data={"first_name": "Ann"}).obj
    contact_update(contact, actor=manager, data={"title": "CTO"})
    with pytest.raises(Conflict):
        contact_delete(contact, actor=manager, version=1)
    assert Contact.objects.filter(pk=contact.pk).exists()
    contact_delete(contact, actor=manager, version=2)
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_models_used_here_are_the_versioned_ones():
    # Every record type under version control carries the field (a guard for new record types).
    for model in (Company, Contact, Lead, Deal, Task):
        assert model._meta.get_field("version").default == 1


def test_a_create_logs_false_and_zero_but_not_empty_values_and_decimals_at_their_scale(rep_a):
    from crm.audit.changelog import created
    from crm.records.services.companies import company_create_many

    assert created({"a": False, "b": 0, "c": None, "d": "", "e": [], "f": {}, "g": "x"}) == {
        "a": [None, False],
        "b": [None, 0],
        "g": [None, "x"],
    }
    one = company_create(actor=rep_a, data={"name": "One", "annual_revenue": 5}).obj
    (many,) = company_create_many(actor=rep_a, items=[{"name": "Many", "annual_revenue": 5}])
    for company in (one, many):
        logged = changes_of(company)[0].changes
        assert logged["annual_revenue"] == [None, "5.00"]
        assert "parent_id" not in logged and "website" not in logged  # empty: not logged
