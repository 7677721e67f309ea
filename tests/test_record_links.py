"""Activities and tasks link to any number of records of any type with a timeline, through one
generic link (crm/records/models/links.py): written by the services, read by the API, the filters,
the timelines and exports, and removed with the record they point at."""

import csv
import io

from crm.audit.models import ObjectChange
from crm.records.models import Activity, ActivityLink, Task, TaskLink
from crm.records.services import activities, contacts
from crm.records.timeline import timeline
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, TaskFactory, links_of


def test_an_activity_links_to_several_records_and_shows_on_each_timeline(api, rep_a, pipeline):
    ann, bob = ContactFactory(owner=rep_a), ContactFactory(owner=rep_a)
    deal = DealFactory(owner=rep_a, pipeline=pipeline)
    links = [{"type": "contact", "id": ann.pk}, {"type": "contact", "id": bob.pk}, {"type": "deal", "id": deal.pk}]
    r = api(rep_a).post("/activities", {"kind": "meeting", "subject": "Kick-off", "links": links})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["links"] == links
    assert (body["contact_id"], body["deal_id"], body["company_id"]) == (ann.pk, deal.pk, None)  # first of each
    for record in (ann, bob, deal):
        assert [e["object"].subject for e in timeline(record, rep_a, kinds=("activity",))] == ["Kick-off"]
    entry = ObjectChange.objects.get(object_type="activity", object_id=body["id"], action="create")
    assert entry.changes["links"] == [None, sorted(f"{lk['type']}:{lk['id']}" for lk in links)]


def test_a_shorthand_replaces_only_its_type_and_is_logged(api, rep_a):
    ann, bob = ContactFactory(owner=rep_a), ContactFactory(owner=rep_a)
    acme = CompanyFactory(owner=rep_a)
    client = api(rep_a)
    created = client.post("/tasks", {"title": "Call back", "contact_id": ann.pk, "company_id": acme.pk}).json()
    pk = created["id"]

    unchanged = client.patch(f"/tasks/{pk}", {"contact_id": ann.pk}).json()  # already linked: nothing moves
    assert unchanged["links"] == created["links"]
    moved = client.patch(f"/tasks/{pk}", {"contact_id": bob.pk}).json()
    assert (moved["contact_id"], moved["company_id"]) == (bob.pk, acme.pk)
    cleared = client.patch(f"/tasks/{pk}", {"company_id": None}).json()
    assert cleared["links"] == [{"type": "contact", "id": bob.pk}]
    changes = [c.changes.get("links") for c in ObjectChange.objects.filter(object_type="task", action="update")]
    assert [f"contact:{ann.pk}", f"company:{acme.pk}"] not in changes  # nothing logged for the no-op
    assert [
        sorted([f"company:{acme.pk}", f"contact:{ann.pk}"]),
        sorted([f"company:{acme.pk}", f"contact:{bob.pk}"]),
    ] in changes
    assert [sorted([f"company:{acme.pk}", f"contact:{bob.pk}"]), [f"contact:{bob.pk}"]] in changes


def test_bad_links_are_field_errors_and_nothing_is_written(api, rep_a, rep_b):
    theirs = ContactFactory(owner=rep_b)  # another team's: rep_a cannot see it
    mine = ContactFactory(owner=rep_a)
    client = api(rep_a)
    cases = [
        ({"links": [{"type": "vehicle", "id": 1}]}, "links", "Cannot link to a record of type 'vehicle'."),
        ({"links": [{"type": "task", "id": 1}]}, "links", "Cannot link to a record of type 'task'."),
        ({"links": [{"type": "contact", "id": theirs.pk}]}, "links", f"No contact with id {theirs.pk}."),
        ({"contact_id": theirs.pk}, "contact_id", f"No contact with id {theirs.pk}."),
        ({"links": [{"type": "contact", "id": mine.pk}], "deal_id": 999999}, "deal_id", "No deal with id 999999."),
    ]
    for extra, field, message in cases:
        r = client.post("/activities", {"kind": "note", "subject": "x", **extra})
        assert r.status_code == 422, (extra, r.content)
        assert r.json()["error"]["fields"].get(field) == message, r.json()
    assert not Activity.objects.exists() and not ActivityLink.objects.exists()


def test_lists_filter_by_linked_record(api, admin_user):
    ann, bob = ContactFactory(owner=admin_user), ContactFactory(owner=admin_user)
    on_ann = ActivityFactory(owner=admin_user, contact=ann)
    on_both = ActivityFactory(owner=admin_user, contact=bob, company=CompanyFactory(owner=admin_user))
    on_nothing = ActivityFactory(owner=admin_user)
    client = api(admin_user)

    def ids(params):
        r = client.get("/activities", params)
        assert r.status_code == 200, r.content
        return sorted(row["id"] for row in r.json()["items"])

    assert ids({"contact": ann.pk}) == [on_ann.pk]
    assert ids({"contact__in": f"{ann.pk},{bob.pk}"}) == sorted([on_ann.pk, on_both.pk])
    assert ids({"contact__ne": ann.pk}) == sorted([on_both.pk, on_nothing.pk])
    assert ids({"contact__isnull": "true"}) == [on_nothing.pk]
    assert ids({"company__isnull": "false"}) == [on_both.pk]
    assert client.get("/activities", {"contact": "ann"}).status_code == 400


def test_deleting_a_record_removes_its_links_and_keeps_the_activity(manager):
    ann = contacts.contact_create(actor=manager, data={"first_name": "Ann"}).obj
    acme = CompanyFactory(owner=manager)
    call = activities.activity_create(
        actor=manager, data={"kind": "call", "subject": "Hi", "contact_id": ann.pk, "company_id": acme.pk}
    ).obj
    task = TaskFactory(assignee=manager, contact=ann)

    contacts.contact_delete(ann, actor=manager)

    assert links_of(Activity.objects.get(pk=call.pk)) == {"company": [acme.pk]}
    assert Task.objects.filter(pk=task.pk).exists() and not TaskLink.objects.exists()
    assert [e["object"].pk for e in timeline(acme, manager, kinds=("activity",))] == [call.pk]


def test_export_lists_every_link(api, admin_user):
    ann, acme = ContactFactory(owner=admin_user), CompanyFactory(owner=admin_user)
    ActivityFactory(owner=admin_user, contact=ann, company=acme)
    body = b"".join(api(admin_user).get("/export/activities", {"format": "csv"}).streaming_content).decode()
    header, row = list(csv.reader(io.StringIO(body)))
    got = dict(zip(header, row, strict=True))
    assert sorted(got["links"].split("; ")) == sorted([f"contact:{ann.pk}", f"company:{acme.pk}"])
    assert (got["contact_id"], got["company_id"]) == (str(ann.pk), str(acme.pk))


def test_the_timeline_follows_an_activity_moved_in_time(rep_a):
    """The links keep a copy of the activity's time (the timeline reads its newest entries from an
    index on it): an update that moves the time moves the entry."""
    import datetime as dt

    ann = ContactFactory(owner=rep_a)
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    older, newer = (
        activities.activity_create(
            actor=rep_a,
            data={"kind": "note", "subject": s, "contact_id": ann.pk, "occurred_at": now + dt.timedelta(days=d)},
        ).obj
        for s, d in (("Older", 0), ("Newer", 1))
    )
    assert [e["object"].subject for e in timeline(ann, rep_a, kinds=("activity",))] == ["Newer", "Older"]
    activities.activity_update(older, actor=rep_a, data={"occurred_at": now + dt.timedelta(days=2)})
    assert [e["object"].subject for e in timeline(ann, rep_a, kinds=("activity",))] == ["Older", "Newer"]
    assert set(ActivityLink.objects.filter(activity=older).values_list("occurred_at", flat=True)) == {
        now + dt.timedelta(days=2)
    }


def test_links_that_are_not_a_list_are_a_field_error(rep_a):
    from crm.core.errors import ValidationFailed

    for bad in ({"type": "contact", "id": 1}, "contact:1"):
        try:
            activities.activity_create(actor=rep_a, data={"kind": "note", "subject": "x", "links": bad})
        except ValidationFailed as exc:
            assert exc.fields == {"links": 'Must be a list of {"type": ..., "id": ...}.'}
        else:
            raise AssertionError(f"{bad!r} was accepted")
    assert not Activity.objects.exists()
