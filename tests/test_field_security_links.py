"""Field rules on the links of activities and tasks (the records they are about): one rule per linked
type (the registry's link fields). Hidden: the API, exports, the change log, webhooks and the task
page leave that type's links out, a filter on it is a 400, the record's timeline still lists the
activity. Read-only: a write that adds or removes a link of that type is refused in the service;
the other links may still change."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crm.access.models import ACTIONS, Profile, Role
from crm.access.services import role_update
from crm.audit.selectors import MASK
from crm.automation.models import WebhookSubscription
from crm.automation.webhooks import record_data, shaped
from crm.core.errors import ValidationFailed
from crm.records.models import Activity
from crm.records.services import activities, activities_bulk
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from crm.records.services.deals import deal_create
from tests.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(boss, pipeline):
    """A restricted user (every action on every type, all records) and an activity and a task, each
    linked to a contact and to a deal named "Zqdeal"."""
    role = Role.objects.create(
        name="Linked",
        slug="linked",
        scope="all",
        permissions={t: list(ACTIONS) for t in ("contact", "company", "deal", "lead", "activity", "task")},
    )
    user = User.objects.create_user("linked", "linked@example.com", "pw")
    Profile.objects.create(user=user, role=role)
    contact = contact_create(actor=boss, data={"first_name": "Zqcontact"}).obj
    deal = deal_create(actor=boss, data={"name": "Zqdeal"}).obj
    links = [{"type": "contact", "id": contact.pk}, {"type": "deal", "id": deal.pk}]
    activity = activities.activity_create(actor=boss, data={"kind": "call", "subject": "Call", "links": links}).obj
    task = activities.task_create(actor=boss, data={"title": "Follow up", "links": links}).obj
    return {"user": user, "role": role, "contact": contact, "deal": deal, "activity": activity, "task": task}


def rule(role, object_type: str, name: str, value: str) -> None:
    Role.objects.filter(pk=role.pk).update(field_access={object_type: {name: value}})


def test_a_role_may_name_the_link_fields(boss, linked):
    role_update(linked["role"], actor=boss, data={"field_access": {"activity": {"deal": "hidden", "contact": "read"}}})
    with pytest.raises(ValidationFailed) as exc:
        role_update(linked["role"], actor=boss, data={"field_access": {"activity": {"links": "hidden"}}})
    assert "deal" in exc.value.fields["field_access"]  # the valid names are listed


def test_hidden_links_leave_the_api_export_change_log_and_webhooks(linked):
    user, activity, deal, contact = linked["user"], linked["activity"], linked["deal"], linked["contact"]
    rule(linked["role"], "activity", "deal", "hidden")
    api = Api(user)
    body = api.get(f"/activities/{activity.pk}").json()
    assert body["links"] == [{"type": "contact", "id": contact.pk}] and body["deal_id"] is None
    assert body["contact_id"] == contact.pk
    r = api.get("/activities", {"deal": deal.pk})
    assert r.status_code == 400 and "deal" in r.json()["error"]["fields"]
    assert api.get("/activities", {"contact": contact.pk}).status_code == 200
    r = api.get("/export/activities", {"format": "csv"})
    header = next(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert "links" not in header and "deal_id" not in header and "contact_id" in header
    logged = api.get(f"/activities/{activity.pk}/changes").json()
    (created,) = [e for e in logged if "links" in e["changes"]]
    assert f"deal:{deal.pk}" not in json.dumps(logged) and MASK in created["changes"]["links"][1]
    # The deal's timeline still lists the activity (seen there, the link is implied).
    entries = api.get(f"/deals/{deal.pk}/timeline", {"types": "activity"}).json()
    assert [e["id"] for e in entries] == [activity.pk]
    sub = WebhookSubscription(name="feed", url="https://example.com/h", role=Role.objects.get(pk=linked["role"].pk))
    payload = shaped(sub, "activity", record_data("activity", activity.pk))
    assert payload["links"] == [f"contact:{contact.pk}"]
    changes = shaped(sub, "activity", {"links": [[f"deal:{deal.pk}"], [f"contact:{contact.pk}"]]})
    assert changes == {"links": [[], [f"contact:{contact.pk}"]]}


def test_a_task_page_leaves_out_the_records_of_a_hidden_link(linked, web):
    url = reverse("web:record-detail", args=["tasks", linked["task"].pk])
    assert "Zqdeal" in web(linked["user"]).get(url).content.decode()
    rule(linked["role"], "task", "deal", "hidden")
    page = web(linked["user"]).get(url).content.decode()
    assert "Zqdeal" not in page and "Zqcontact" in page


def test_read_only_links_may_not_change_but_the_others_may(boss, linked):
    user, activity, deal, contact = linked["user"], linked["activity"], linked["deal"], linked["contact"]
    rule(linked["role"], "activity", "deal", "read")
    api = Api(user)
    other = deal_create(actor=boss, data={"name": "Other"}).obj
    company = company_create(actor=boss, data={"name": "Zqco"}).obj
    for data in (
        {"links": [{"type": "contact", "id": contact.pk}]},  # drops the deal
        {"links": [{"type": "contact", "id": contact.pk}, {"type": "deal", "id": other.pk}]},
        {"deal_id": other.pk},
        {"deal_id": None},
    ):
        r = api.patch(f"/activities/{activity.pk}", data)
        assert r.status_code == 422, (data, r.content)
        assert "read-only" in json.dumps(r.json()["error"]["fields"])
    assert sorted(Activity.objects.get(pk=activity.pk).link_keys()) == [f"contact:{contact.pk}", f"deal:{deal.pk}"]
    # The deal's links sent back as they are, with another company: allowed.
    keep = [
        {"type": "contact", "id": contact.pk},
        {"type": "deal", "id": deal.pk},
        {"type": "company", "id": company.pk},
    ]
    assert api.patch(f"/activities/{activity.pk}", {"links": keep}).status_code == 200
    r = api.post("/activities", {"kind": "note", "subject": "New", "links": [{"type": "deal", "id": deal.pk}]})
    assert r.status_code == 422
    assert api.post("/activities", {"kind": "note", "subject": "New", "contact_id": contact.pk}).status_code == 201
    results = activities_bulk.activity_create_many(
        actor=user,
        items=[
            {"kind": "note", "subject": "A", "links": [{"type": "deal", "id": deal.pk}]},
            {"kind": "note", "subject": "B", "contact_id": contact.pk},
        ],
    )
    assert isinstance(results[0], ValidationFailed) and isinstance(results[1], Activity)


def test_a_hidden_link_is_not_set_through_the_api_either(linked):
    rule(linked["role"], "task", "deal", "hidden")
    r = Api(linked["user"]).post("/tasks", {"title": "T", "deal_id": linked["deal"].pk})
    assert r.status_code == 422 and "hidden" in json.dumps(r.json()["error"]["fields"])
