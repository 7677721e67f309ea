"""/api/v1/objects/{slug}: the generic endpoints of custom records, their permissions, and records that
match the JSON Schema /api/v1/settings/object-types/{key}/schema serves."""

import json

import pytest
from django.test import Client

from crm.audit.models import ObjectChange
from crm.objects import services
from crm.objects.models import CustomRecord
from tests.conftest import Api
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db
BASE = "/objects/vehicles"
FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer", "required": True},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["petrol", "electric"]},
    {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["tow", "roof"]},
    {"key": "price", "label": "Price", "field_type": "money"},
    {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
    {"key": "bought", "label": "Bought", "field_type": "date"},
    {"key": "serviced_at", "label": "Serviced", "field_type": "datetime"},
    {"key": "eco", "label": "Eco", "field_type": "boolean"},
    {"key": "vin", "label": "VIN", "field_type": "text", "unique": True},
]


@pytest.fixture
def vehicle(boss):
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    return services.object_type_create(actor=boss, data=data)


def post(user, values, **attrs):
    return Api(user).post(BASE, {"values": values, **attrs})


def names(r) -> list[str]:
    assert r.status_code == 200, r.content
    return [item["name"] for item in r.json()["items"]]


def test_create_get_update_delete_and_change_log(vehicle, clerk):
    api = Api(clerk)
    r = post(clerk, {"name": "Van", "seats": 3, "price": {"amount": 10, "currency": "eur"}, "eco": True})
    assert r.status_code == 201, r.content
    van = r.json()
    assert set(van) == {"id", "version", "name", "owner_id", "created_at", "updated_at", "values"}
    assert (van["name"], van["owner_id"], van["version"]) == ("Van", clerk.pk, 1)
    assert van["values"]["price"] == {"amount": 10.0, "currency": "EUR"}
    got = api.get(f"{BASE}/{van['id']}")
    assert got.json() == van and got["ETag"] == '"1"'
    r = api.patch(f"{BASE}/{van['id']}", {"values": {"seats": 4}, "version": 1})
    assert r.status_code == 200 and (r.json()["version"], r.json()["values"]["seats"]) == (2, 4)
    stale = api.patch(f"{BASE}/{van['id']}", {"values": {"seats": 5}, "version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    changes = api.get(f"{BASE}/{van['id']}/changes").json()
    assert [c["action"] for c in changes] == ["update", "create"] and changes[0]["object_type"] == "vehicle"
    assert api.delete(f"{BASE}/{van['id']}").status_code == 204
    assert api.get(f"{BASE}/{van['id']}").status_code == 404 and not CustomRecord.objects.exists()


def test_bad_input_names_the_field_in_the_body(vehicle, clerk):
    r = post(clerk, {"name": "Van", "seats": "many", "fuel": "coal", "colour": "red"})
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"values.seats", "values.fuel", "values.colour"}
    assert post(clerk, {"name": "Van"}).json()["error"]["fields"] == {"values.seats": "This field is required."}
    r = Api(clerk).post(BASE, {"values": "nope"})
    assert r.status_code == 422 and "values" in r.json()["error"]["fields"]
    r = post(clerk, {"name": "Van", "seats": 1}, owner_id=999999)
    assert r.status_code == 422 and "owner_id" in r.json()["error"]["fields"]
    assert not CustomRecord.objects.exists()


def test_unknown_slug_is_a_404_in_the_error_shape(vehicle, clerk):
    for path in ("/objects/spaceships", "/objects/contacts", "/objects/spaceships/1", "/objects/spaceships/1/changes"):
        r = Api(clerk).get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    assert Api(clerk).post("/objects/spaceships", {"values": {}}).status_code == 404


def test_lists_filter_by_field_key_sort_page_and_search(vehicle, clerk):
    for name, seats, fuel, extras, day in [
        ("Alpha", 2, "petrol", ["tow"], "2024-01-05"),
        ("Bravo", 7, "electric", ["tow", "roof"], "2024-03-01"),
        ("Charlie", 5, "electric", [], "2023-12-31"),
    ]:
        assert (
            post(clerk, {"name": name, "seats": seats, "fuel": fuel, "extras": extras, "bought": day}).status_code
            == 201
        )
    api = Api(clerk)
    assert names(api.get(BASE, {"seats__gt": "4", "sort": "seats"})) == ["Charlie", "Bravo"]
    assert names(api.get(BASE, {"fuel": "electric", "sort": "-name"})) == ["Charlie", "Bravo"]
    assert names(api.get(BASE, {"extras": "roof"})) == ["Bravo"]
    assert names(api.get(BASE, {"bought__gte": "2024-01-01", "sort": "bought"})) == ["Alpha", "Bravo"]
    assert names(api.get(BASE, {"cf_seats__lt": "3"})) == ["Alpha"]  # the custom-field form works too
    assert names(api.get(BASE, {"q": "brav"})) == ["Bravo"]
    first = api.get(BASE, {"sort": "name", "limit": 2}).json()
    assert [i["name"] for i in first["items"]] == ["Alpha", "Bravo"] and first["next"]
    assert names(api.get(BASE, {"sort": "name", "limit": 2, "cursor": first["next"]})) == ["Charlie"]
    bad = api.get(BASE, {"seats__gt": "x", "colour": "red"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"seats__gt", "colour"}
    assert api.get(BASE, {"sort": "extras"}).status_code == 400


def test_own_scope_sees_and_changes_only_own_records(vehicle, clerk, other_clerk, fleet_manager):
    mine = post(clerk, {"name": "Mine", "seats": 2}).json()
    theirs = post(other_clerk, {"name": "Theirs", "seats": 2}).json()
    assert names(Api(clerk).get(BASE)) == ["Mine"]
    assert Api(clerk).get(f"{BASE}/{theirs['id']}").status_code == 404
    assert Api(clerk).patch(f"{BASE}/{theirs['id']}", {"values": {"seats": 9}}).status_code == 404
    assert Api(clerk).delete(f"{BASE}/{theirs['id']}").status_code == 404
    assert sorted(names(Api(fleet_manager).get(BASE))) == ["Mine", "Theirs"]  # team scope
    # Giving a record away that they could then not see is refused (the write rolls back).
    r = Api(clerk).patch(f"{BASE}/{mine['id']}", {"owner_id": other_clerk.pk})
    assert r.status_code == 403 and CustomRecord.objects.get(pk=mine["id"]).owner == clerk


def test_a_role_without_the_type_or_the_action(vehicle, clerk, vehicle_viewer, rep_a):
    van = post(clerk, {"name": "Van", "seats": 2}).json()
    assert Api(rep_a).get(BASE).json()["items"] == []  # a role without the type sees none
    assert Api(rep_a).get(f"{BASE}/{van['id']}").status_code == 404
    assert post(rep_a, {"name": "X", "seats": 1}).status_code == 403
    assert names(Api(vehicle_viewer).get(BASE)) == ["Van"]
    assert Api(vehicle_viewer).patch(f"{BASE}/{van['id']}", {"values": {"seats": 3}}).status_code == 403
    assert Api(vehicle_viewer).post(f"{BASE}/bulk", {"items": [{"values": {"name": "X"}}]}).status_code == 403


def test_bulk_is_all_or_nothing(vehicle, clerk):
    van = post(clerk, {"name": "Van", "seats": 2}).json()
    items = [{"values": {"name": "Car", "seats": 4}}, {"id": van["id"], "values": {"seats": 3}, "version": 1}]
    r = Api(clerk).post(f"{BASE}/bulk", {"items": items})
    assert r.status_code == 200, r.content
    assert [(i["created"], i["record"]["values"]["seats"]) for i in r.json()["items"]] == [(True, 4), (False, 3)]
    bad = [{"values": {"name": "Bus", "seats": 40}}, {"values": {"name": "Bad", "seats": "x"}}, {"id": 99999}]
    r = Api(clerk).post(f"{BASE}/bulk", {"items": bad})
    assert r.status_code == 422 and set(r.json()["error"]["fields"]) == {"items.1.values.seats", "items.2"}
    assert not CustomRecord.objects.filter(name="Bus").exists()


def test_archived_types_are_read_only(vehicle, boss, clerk):
    van = post(clerk, {"name": "Van", "seats": 2}).json()
    services.object_type_archive(vehicle, actor=boss)
    assert names(Api(clerk).get(BASE)) == ["Van"]
    r = Api(clerk).patch(f"{BASE}/{van['id']}", {"values": {"seats": 3}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "archived"


def test_lookups_name_a_record_the_writer_sees(vehicle, clerk):
    company = CompanyFactory(owner=clerk)
    r = post(clerk, {"name": "Van", "seats": 2, "operator": company.pk})
    assert r.status_code == 201 and r.json()["values"]["operator"] == company.pk
    hidden = CompanyFactory(owner=UserFactory())
    r = post(clerk, {"name": "Car", "seats": 2, "operator": hidden.pk})
    assert r.json()["error"]["fields"] == {"values.operator": f"No company with id {hidden.pk}."}


def test_a_record_matches_the_types_json_schema(vehicle, boss, clerk):
    company = CompanyFactory(owner=clerk)
    values = {
        "name": "Van",
        "seats": 3,
        "fuel": "electric",
        "extras": ["tow"],
        "price": {"amount": 9.5, "currency": "EUR"},
        "operator": company.pk,
        "bought": "2024-02-29",
        "serviced_at": "2024-03-01T10:00:00+02:00",
        "eco": False,
    }
    record = post(clerk, values).json()
    schema = Api(boss).get("/settings/object-types/vehicle/schema").json()
    assert conforms(record, schema) == []
    assert conforms({**record, "values": {**record["values"], "seats": "3"}}, schema) == ["values.seats"]


TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "object": dict, "array": list}


def conforms(value, schema: dict, path: str = "") -> list[str]:
    """The paths where ``value`` breaks ``schema``: types, enums, required and unknown keys (jsonschema is
    not installed; this covers the keywords record_schema.py writes)."""
    wanted = schema.get("type")
    if wanted is not None:
        kinds = [wanted] if isinstance(wanted, str) else wanted
        ok = any(value is None if k == "null" else _is(value, k) for k in kinds)
        if not ok:
            return [path.lstrip(".")]
    if "enum" in schema and value not in schema["enum"]:
        return [path.lstrip(".")]
    errors = []
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        errors += [f"{path}.{k}".lstrip(".") for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}.{k}".lstrip(".") for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                errors += conforms(v, props[k], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += conforms(v, schema["items"], f"{path}.{i}")
    return errors


def _is(value, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[kind])


def test_operations_have_unique_ids_and_declared_errors(db):
    doc = json.loads(Client().get("/api/v1/openapi.json").content)
    ops = {
        (path, method): op
        for path, methods in doc["paths"].items()
        if path.startswith("/api/v1/objects/")
        for method, op in methods.items()
    }
    assert {op["operationId"] for op in ops.values()} == {
        "list_custom_records",
        "create_custom_record",
        "bulk_save_custom_records",
        "get_custom_record",
        "update_custom_record",
        "delete_custom_record",
        "custom_record_changes",
        "custom_record_timeline",
    }
    for (path, method), op in ops.items():
        assert "404" in op["responses"] and op["security"], (path, method)
    patch = doc["paths"]["/api/v1/objects/{slug}/{pk}"]["patch"]["responses"]
    assert {"409", "422"} <= set(patch)


def test_change_log_rows_are_the_services(vehicle, clerk):
    van = post(clerk, {"name": "Van", "seats": 2}).json()
    entry = ObjectChange.objects.get(object_type="vehicle", object_id=van["id"])
    assert (entry.action, entry.source, entry.user) == ("create", "api", clerk)


def test_a_retried_create_with_an_idempotency_key_creates_once(vehicle, clerk):
    api = Api(clerk)
    body = {"values": {"name": "Van", "seats": 2}}
    first = api.post(BASE, body, headers={"Idempotency-Key": "k1"})
    again = api.post(BASE, body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert CustomRecord.objects.count() == 1
    other = api.post(BASE, {"values": {"name": "Car", "seats": 2}}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 409 and CustomRecord.objects.count() == 1  # the same key, another body
