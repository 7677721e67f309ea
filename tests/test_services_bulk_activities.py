"""activity_create_many: activity_create's rules for each item, in a number of queries that does not
grow with the batch."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.records.models import Activity
from crm.records.services.activities_bulk import activity_create_many
from crm.records.timeline import timeline
from tests.factories import CompanyFactory, ContactFactory, links_of


def test_each_item_is_created_linked_logged_or_refused_in_its_slot(rep_a, rep_b):
    ann, bob = ContactFactory(owner=rep_a), ContactFactory(owner=rep_a)
    acme, hidden = CompanyFactory(owner=rep_a), ContactFactory(owner=rep_b)
    items = [
        {"kind": "call", "subject": "Intro", "contact_id": ann.pk, "company_id": acme.pk},
        {
            "kind": "meeting",
            "subject": "Demo",
            "links": [{"type": "contact", "id": bob.pk}],
            "participant_ids": [ann.pk, bob.pk],
        },
        {"kind": "note", "subject": "Secret", "contact_id": hidden.pk},  # not visible to rep_a
        {"kind": "shout", "subject": "Bad kind"},
        {"kind": "note", "subject": "Who?", "participant_ids": [999999]},
        {"kind": "note", "subject": "Lost owner", "owner_id": 999999},
    ]
    results = activity_create_many(actor=rep_a, items=items)

    call, meeting, *refused = results
    assert isinstance(call, Activity) and isinstance(meeting, Activity)
    assert [type(r) for r in refused] == [ValidationFailed] * 4
    assert refused[0].fields == {"contact_id": f"No contact with id {hidden.pk}."}
    assert "kind" in refused[1].fields and "participant_ids" in refused[2].fields and "owner_id" in refused[3].fields
    assert Activity.objects.count() == 2
    assert links_of(call) == {"contact": [ann.pk], "company": [acme.pk]} and call.owner == rep_a
    assert sorted(c.pk for c in Activity.objects.get(pk=meeting.pk).participants.all()) == sorted([ann.pk, bob.pk])
    logged = ObjectChange.objects.get(object_type="activity", object_id=meeting.pk, action="create")
    assert logged.changes["links"] == [None, [f"contact:{bob.pk}"]]
    assert logged.changes["participants"] == [None, sorted([ann.pk, bob.pk])]
    assert [e["object"].pk for e in timeline(ann, rep_a, kinds=("activity",))] == [call.pk]


def _queries(actor, n: int) -> int:
    contacts = [ContactFactory(owner=actor) for _ in range(3)]
    items = [
        {"kind": "note", "subject": f"N{i}", "contact_id": contacts[i % 3].pk, "participant_ids": [contacts[0].pk]}
        for i in range(n)
    ]
    with CaptureQueriesContext(connection) as ctx:
        results = activity_create_many(actor=actor, items=items)
    assert all(isinstance(r, Activity) for r in results)
    return len(ctx)


def test_queries_do_not_grow_with_the_batch(manager):
    # Long inserts split into a few statements (SQLite's limit on bound values); nothing runs per row.
    assert _queries(manager, 60) <= _queries(manager, 5) + 6


def test_a_role_that_may_not_add_activities_is_refused(readonly):
    with pytest.raises(PermissionDenied):
        activity_create_many(actor=readonly, items=[{"kind": "note", "subject": "x"}])
    assert not Activity.objects.exists()


def test_participants_that_are_not_a_list_refuse_only_their_item(rep_a):
    ann = ContactFactory(owner=rep_a)
    bad, good = activity_create_many(
        actor=rep_a,
        items=[
            {"kind": "note", "subject": "x", "participant_ids": "1,2"},
            {"kind": "meeting", "subject": "y", "participant_ids": [ann.pk]},
        ],
    )
    assert isinstance(bad, ValidationFailed) and bad.fields == {"participant_ids": "Must be a list of contact ids."}
    assert isinstance(good, Activity) and [c.pk for c in good.participants.all()] == [ann.pk]
