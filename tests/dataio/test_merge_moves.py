"""Records a merge moves to the survivor are updated as the services would update them: version one
higher, a change-log entry naming the link that changed, an event; in bulk, whatever their number."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.core import events
from crm.dataio.merge import company_merge, contact_merge
from crm.records.models import (
    Activity,
    ActivityLink,
    Company,
    Contact,
    Deal,
    DealContact,
    Lead,
    PastCompany,
    Task,
    TaskLink,
)
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory, TaskFactory

pytestmark = pytest.mark.django_db


def version(obj) -> int:
    return type(obj).objects.values_list("version", flat=True).get(pk=obj.pk)


def updates(obj) -> list[ObjectChange]:
    return list(ObjectChange.objects.filter(object_type=obj.object_type, object_id=obj.pk, action="update"))


def assert_moved(obj, changes: dict, user):
    [entry] = updates(obj)
    assert entry.changes == changes and entry.user == user, (obj, entry.changes)
    assert version(obj) == obj.version + 1


def test_contact_merge_moves_each_record_through_the_change_log(manager, pipeline):
    a, b = ContactFactory(first_name="Ann", owner=manager), ContactFactory(first_name="Anne", owner=manager)
    note, task = ActivityFactory(contact=b), TaskFactory(contact=b)
    lead = LeadFactory(converted_contact=b, converted_at=timezone.now())
    meeting = ActivityFactory(kind="meeting")
    meeting.participants.set([a, b])
    call = ActivityFactory(kind="call")
    call.participants.set([b])
    shared, theirs, untouched = (DealFactory(pipeline=pipeline) for _ in range(3))
    DealContact.objects.create(deal=shared, contact=a, role="champion")
    DealContact.objects.create(deal=shared, contact=b, role="user")
    DealContact.objects.create(deal=theirs, contact=b, role="decision_maker")
    DealContact.objects.create(deal=untouched, contact=a, role="user")

    contact_merge(a, b, actor=manager)

    assert_moved(note, {"links": [[f"contact:{b.pk}"], [f"contact:{a.pk}"]]}, manager)
    assert_moved(task, {"links": [[f"contact:{b.pk}"], [f"contact:{a.pk}"]]}, manager)
    assert_moved(lead, {"converted_contact_id": [b.pk, a.pk]}, manager)
    # Records whose snapshot lists a moved row: the participants, the deal's contacts.
    assert_moved(meeting, {"participants": [sorted([a.pk, b.pk]), [a.pk]]}, manager)
    assert_moved(call, {"participants": [[b.pk], [a.pk]]}, manager)
    assert_moved(shared, {"contacts": [sorted([f"{a.pk}:champion", f"{b.pk}:user"]), [f"{a.pk}:champion"]]}, manager)
    assert_moved(theirs, {"contacts": [[f"{b.pk}:decision_maker"], [f"{a.pk}:decision_maker"]]}, manager)
    assert version(untouched) == untouched.version and not updates(untouched)
    sources = set(ObjectChange.objects.filter(action="update").values_list("source", "request_id"))
    assert len(sources) == 1  # one source and request id, as every other row of the merge


def test_company_merge_moves_each_record_through_the_change_log(manager, pipeline):
    a, b = CompanyFactory(name="Acme", owner=manager), CompanyFactory(name="ACME Inc", owner=manager)
    person = ContactFactory(first_name="Pat", company=b, owner=manager)
    child = CompanyFactory(name="Acme Sub", parent=b, owner=manager)
    deal = DealFactory(pipeline=pipeline, company=b)
    act, task = ActivityFactory(company=b), TaskFactory(company=b)
    lead = LeadFactory(converted_company=b)
    PastCompany.objects.create(contact=person, company=b, ended_at=timezone.now())

    company_merge(a, b, actor=manager)

    for obj in (person, deal):
        assert_moved(obj, {"company_id": [b.pk, a.pk]}, manager)
    for obj in (act, task):  # the generic links
        assert_moved(obj, {"links": [[f"company:{b.pk}"], [f"company:{a.pk}"]]}, manager)
    assert_moved(child, {"parent_id": [b.pk, a.pk]}, manager)
    assert_moved(lead, {"converted_company_id": [b.pk, a.pk]}, manager)
    # A past company is not part of the contact's snapshot: moving it changes nothing more for Pat.
    assert len(updates(person)) == 1 and Contact.objects.get(pk=person.pk).version == person.version + 1


def test_moved_records_emit_updated_events(manager, django_capture_on_commit_callbacks):
    a, b = ContactFactory(owner=manager), ContactFactory(owner=manager)
    note = ActivityFactory(contact=b)
    seen = []
    events.subscribe(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            contact_merge(a, b, actor=manager)
    finally:
        events.unsubscribe(seen.append)
    [moved] = [e for e in seen if e.object_type == "activity"]
    links = {"links": [[f"contact:{b.pk}"], [f"contact:{a.pk}"]]}
    assert (moved.type, moved.object_id, moved.changes) == ("record.updated", note.pk, links)


def merge_with(manager, pipeline, n: int) -> int:
    """The queries of a contact merge that moves ``n`` of each kind of related record."""
    a, b = ContactFactory(owner=manager), ContactFactory(owner=manager)
    notes = Activity.objects.bulk_create([Activity(kind="note", subject=f"N{i}") for i in range(n)])
    ActivityLink.objects.bulk_create(
        [ActivityLink(activity=a, record_type="contact", record_id=b.pk, occurred_at=a.occurred_at) for a in notes]
    )
    tasks = Task.objects.bulk_create([Task(title=f"T{i}") for i in range(n)])
    TaskLink.objects.bulk_create([TaskLink(task=t, record_type="contact", record_id=b.pk) for t in tasks])
    Lead.objects.bulk_create([Lead(name=f"L{i}", converted_contact=b) for i in range(n)])
    meetings = Activity.objects.bulk_create([Activity(kind="meeting", subject=f"M{i}") for i in range(n)])
    Activity.participants.through.objects.bulk_create(
        [Activity.participants.through(activity=m, contact=b) for m in meetings]
    )
    stage = pipeline.stages.first()
    deals = Deal.objects.bulk_create(
        [Deal(name=f"D{i}", currency="USD", pipeline=pipeline, stage=stage) for i in range(n)]
    )
    DealContact.objects.bulk_create([DealContact(deal=d, contact=b) for d in deals])
    ObjectChange.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        contact_merge(a, b, actor=manager)
    assert ObjectChange.objects.filter(action="update").count() == 5 * n
    return len(queries)


def test_a_merge_moves_many_records_in_the_same_number_of_queries(manager, pipeline):
    merge_with(manager, pipeline, 3)  # the first merge also reads what is cached for the next ones
    few = merge_with(manager, pipeline, 3)
    many = merge_with(manager, pipeline, 120)
    assert many == few, (few, many)


def test_a_company_never_becomes_its_own_child(manager):
    a, b = CompanyFactory(name="Parent", owner=manager), CompanyFactory(name="Child", owner=manager)
    Company.objects.filter(pk=a.pk).update(parent=b)
    company_merge(a, b, actor=manager)
    assert Company.objects.get(pk=a.pk).parent_id is None
    assert not updates(a)  # the survivor's own change is its merge entry
