"""GET /api/v1/objects/{slug}/{id}/timeline: a custom record's activities, tasks and changes, newest first,
with the query parameters and visibility of the declared types' timeline; declared in the OpenAPI."""

import pytest

from crm.objects import services
from crm.objects.records import record_create, record_update
from crm.records.services.activities import activity_create, task_create
from tests.conftest import Api
from tests.objects.conftest import ALL, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def vehicle(boss):
    fields = [{"key": "seats", "label": "Seats", "field_type": "integer"}]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


@pytest.fixture
def clerk(fleet_team):
    """Vehicles, activities and tasks: their own records only."""
    return user_with("clerk", {"vehicle": ALL, "activity": ALL, "task": ALL}, team=fleet_team)


@pytest.fixture
def van(clerk, vehicle):
    record = record_create(actor=clerk, object_type=vehicle, data={"name": "Van", "seats": 2}).obj
    record_update(record, actor=clerk, data={"seats": 3})
    link = [{"type": "vehicle", "id": record.pk}]
    activity_create(actor=clerk, data={"kind": "call", "subject": "Service call", "links": link})
    task_create(actor=clerk, data={"title": "Book MOT", "links": link})
    return record


def test_timeline_lists_activities_tasks_and_changes(clerk, van):
    r = Api(clerk).get(f"/objects/vehicles/{van.pk}/timeline")
    assert r.status_code == 200, r.content
    entries = r.json()
    assert sorted(e["kind"] for e in entries) == ["activity", "change", "change", "task"]
    assert {e["title"] for e in entries} >= {"Service call", "Book MOT", "create by clerk", "update by clerk"}
    change = next(e for e in entries if e["title"] == "update by clerk")
    assert change["detail"]["changes"]["custom_fields"][1]["seats"] == 3
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)


def test_timeline_query_parameters(clerk, van):
    api = Api(clerk)
    only = api.get(f"/objects/vehicles/{van.pk}/timeline", {"types": "task,activity"}).json()
    assert sorted(e["kind"] for e in only) == ["activity", "task"]
    assert len(api.get(f"/objects/vehicles/{van.pk}/timeline", {"limit": 1}).json()) == 1
    bad = api.get(f"/objects/vehicles/{van.pk}/timeline", {"limit": 0})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"limit": "0"}
    bad = api.get(f"/objects/vehicles/{van.pk}/timeline", {"types": "email"})
    assert bad.status_code == 400 and "email" in bad.json()["error"]["message"]


def test_records_out_of_scope_and_unknown_types_are_404(clerk, other_clerk, vehicle_viewer, van):
    assert Api(other_clerk).get(f"/objects/vehicles/{van.pk}/timeline").status_code == 404  # own scope
    assert Api(vehicle_viewer).get(f"/objects/vehicles/{van.pk}/timeline").status_code == 200  # sees all
    assert Api(clerk).get(f"/objects/vehicles/{van.pk + 1000}/timeline").status_code == 404
    assert Api(clerk).get(f"/objects/spaceships/{van.pk}/timeline").status_code == 404
    assert Api(clerk).get(f"/objects/contacts/{van.pk}/timeline").status_code == 404  # a declared type's slug


def test_timeline_is_in_the_openapi(boss):
    schema = Api(boss).get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/objects/{slug}/{pk}/timeline"]["get"]
    assert operation["operationId"] == "custom_record_timeline"
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert ids.count("custom_record_timeline") == 1
