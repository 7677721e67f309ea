"""/api/v1/settings/object-types: admins only, the services' errors as the API's, and a record schema."""

import pytest

from crm.audit.models import ObjectChange
from crm.objects.models import CustomRecord, ObjectType
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = "/settings/object-types"
FIELDS = [
    {"key": "vin", "label": "VIN", "field_type": "text", "unique": True, "help_text": "17 characters"},
    {"key": "seats", "label": "Seats", "field_type": "integer", "required": True, "default": 5},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["diesel", "electric"]},
    {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["tow bar", "roof rack"]},
    {"key": "price", "label": "Price", "field_type": "money"},
    {"key": "registered", "label": "Registered", "field_type": "date"},
    {"key": "serviced_at", "label": "Serviced", "field_type": "datetime"},
    {"key": "manual", "label": "Manual", "field_type": "url"},
    {"key": "contact_email", "label": "Email", "field_type": "email"},
    {"key": "hotline", "label": "Hotline", "field_type": "phone"},
    {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
]
VEHICLE = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}


@pytest.fixture
def boss(api):
    return api(UserFactory(username="boss", role="admin"))


def test_create_get_list_update_and_delete(boss):
    r = boss.post(BASE, VEHICLE)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["key"], body["slug"], body["name_field"], body["archived"]) == ("vehicle", "vehicles", "name", False)
    assert [f["key"] for f in body["fields"]] == ["name", *(f["key"] for f in FIELDS)]
    assert boss.get(f"{BASE}/vehicle").json() == body
    assert [t["key"] for t in boss.get(BASE).json()] == ["vehicle"]

    r = boss.patch(f"{BASE}/vehicle", {"plural": "Cars", "archived": True})
    assert r.status_code == 200 and r.json()["plural"] == "Cars" and r.json()["archived"]
    assert boss.get(BASE, {"archived": "false"}).json() == []
    r = boss.patch(f"{BASE}/vehicle", {"key": "car"})
    assert r.status_code == 422 and "key" in r.json()["error"]["fields"]

    CustomRecord.objects.create(type=ObjectType.objects.get(), name="Van")
    r = boss.delete(f"{BASE}/vehicle")
    assert r.status_code == 409 and r.json()["error"]["code"] == "confirm_required"
    assert r.json()["error"]["fields"] == {"confirm": "1 records of this type exist."}
    r = boss.delete(f"{BASE}/vehicle?confirm=true")
    assert r.status_code == 200 and r.json() == {"records_deleted": 1}
    assert boss.get(f"{BASE}/vehicle").status_code == 404


def test_bad_input_names_the_field_and_writes_nothing(boss):
    bad = [
        ({**VEHICLE, "key": "contact"}, "key"),
        ({**VEHICLE, "slug": "board"}, "slug"),
        ({**VEHICLE, "colour": "red"}, "colour"),
        ({**VEHICLE, "fields": [{"key": "x", "label": "X", "field_type": "lookup"}]}, "fields.0.target"),
        ({**VEHICLE, "name_field": "seats"}, "name_field"),
        ({key: v for key, v in VEHICLE.items() if key != "plural"}, "plural"),
    ]
    for payload, field in bad:
        r = boss.post(BASE, payload)
        assert r.status_code == 422, (field, r.json())
        assert field in r.json()["error"]["fields"], (field, r.json())
    assert not ObjectType.objects.exists() and not ObjectChange.objects.exists()


def test_only_admins(api, rep_a, boss):
    boss.post(BASE, VEHICLE)
    rep = api(rep_a)
    for response in (
        rep.get(BASE),
        rep.post(BASE, {**VEHICLE, "key": "boat", "slug": "boats"}),
        rep.get(f"{BASE}/vehicle"),
        rep.patch(f"{BASE}/vehicle", {"plural": "Cars"}),
        rep.delete(f"{BASE}/vehicle?confirm=true"),
        rep.get(f"{BASE}/vehicle/schema"),
    ):
        assert response.status_code == 403, response.json()
    assert api(None).get(BASE).status_code == 401
    assert ObjectType.objects.get().plural == "Vehicles"


def test_the_record_schema(boss):
    boss.post(BASE, {**VEHICLE, "description": "Company cars"})
    schema = boss.get(f"{BASE}/vehicle/schema").json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (schema["title"], schema["description"], schema["type"]) == ("Vehicle", "Company cars", "object")
    assert schema["required"] == ["values"] and schema["additionalProperties"] is False
    attributes, values = schema["properties"], schema["properties"]["values"]
    assert attributes["id"] == {"type": "integer", "readOnly": True}
    assert attributes["owner_id"]["type"] == ["integer", "null"] and attributes["name"]["readOnly"]
    assert values["required"] == ["name", "seats"] and values["additionalProperties"] is False
    p = values["properties"]
    assert p["name"] == {"title": "Name", "type": "string", "maxLength": 255}
    assert p["vin"] == {
        "title": "VIN",
        "type": ["string", "null"],
        "maxLength": 255,
        "description": "17 characters",
        "x-unique": True,
    }
    assert p["seats"] == {"title": "Seats", "type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1, "default": 5}
    assert p["fuel"] == {"title": "Fuel", "enum": ["diesel", "electric", None]}
    assert p["extras"]["items"] == {"enum": ["tow bar", "roof rack"]} and p["extras"]["uniqueItems"]
    assert p["price"]["type"] == ["object", "null"] and p["price"]["required"] == ["amount", "currency"]
    assert p["price"]["properties"]["currency"] == {"type": "string", "pattern": "^[A-Z]{3}$"}
    assert (p["registered"]["format"], p["serviced_at"]["format"]) == ("date", "date-time")
    assert (p["manual"]["format"], p["contact_email"]["format"]) == ("uri", "email")
    assert p["hotline"]["pattern"] == r"^\+[1-9][0-9]{1,14}$"
    assert p["operator"] == {"title": "Operator", "type": ["integer", "null"], "x-target": "company"}


def test_operations_have_ids_and_declared_errors(boss):
    doc = boss.get("/openapi.json").json()
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith("/api/v1/settings/object-types")}
    ids = {op["operationId"] for ops in paths.values() for op in ops.values()}
    assert ids == {
        "list_object_types",
        "create_object_type",
        "get_object_type",
        "update_object_type",
        "delete_object_type",
        "object_type_schema",
    }
    delete = paths["/api/v1/settings/object-types/{key}"]["delete"]
    assert {"403", "404", "409"} <= set(delete["responses"])
    assert delete["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
