"""The published API description: a valid OpenAPI document naming every endpoint, and the docs page."""

import json

from django.test import Client

from tests.test_api_helpers import KINDS

EXPECTED_PATHS = [
    *[f"/api/v1/{kind}" for kind in KINDS],
    *[f"/api/v1/{kind}/bulk" for kind in KINDS],
    *[f"/api/v1/{kind}/{{pk}}" for kind in KINDS],
    *[f"/api/v1/{kind}/{{pk}}/changes" for kind in KINDS],
    "/api/v1/leads/{pk}/convert",
    "/api/v1/deals/{pk}/move",
    "/api/v1/deals/{pk}/stage-history",
    "/api/v1/tasks/{pk}/complete",
    "/api/v1/{kind}/{pk}/timeline",
    "/api/v1/search",
    "/api/v1/changes",
    "/api/v1/pipelines",
    "/api/v1/tags",
    "/api/v1/custom-fields",
    "/api/v1/me",
]


def test_openapi_document_lists_every_endpoint(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.content)
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "CRM API"
    missing = [p for p in EXPECTED_PATHS if p not in doc["paths"]]
    assert not missing, missing
    contacts = doc["paths"]["/api/v1/contacts/{pk}"]
    assert {"get", "patch", "delete"} <= set(contacts)
    assert "post" in doc["paths"]["/api/v1/contacts"] and "get" in doc["paths"]["/api/v1/contacts"]
    # Every record operation is documented with a response and requires one of the two auth schemes.
    for path in EXPECTED_PATHS:
        for method, op in doc["paths"][path].items():
            assert op.get("responses"), (method, path)
            assert op.get("security"), (method, path)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["TokenAuth"]["scheme"] == "bearer" and schemes["SessionAuth"]["in"] == "cookie"
    assert {"ContactIn", "ContactOut"} <= set(doc["components"]["schemas"])


def test_docs_page_answers(db):
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    assert b"openapi.json" in r.content


def test_unknown_api_paths_are_json_404(api, rep_a):
    for path in ("/nothing-here", "/contacts/abc", "/contacts/1/nope"):
        r = api(rep_a).get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, r.content[:200])


def test_every_operation_has_a_unique_meaningful_id(db, capsys):
    """Generated clients name their methods from operation ids: one id used twice loses a method."""
    doc = json.loads(Client().get("/api/v1/openapi.json").content)
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    contacts, contact = doc["paths"]["/api/v1/contacts"], doc["paths"]["/api/v1/contacts/{pk}"]
    assert (contacts["get"]["operationId"], contacts["post"]["operationId"]) == ("list_contacts", "create_contact")
    assert [contact[m]["operationId"] for m in ("get", "patch", "delete")] == [
        "get_contact",
        "update_contact",
        "delete_contact",
    ]
    assert doc["paths"]["/api/v1/activities/bulk"]["post"]["operationId"] == "bulk_save_activities"
    assert doc["paths"]["/api/v1/leads/{pk}/convert"]["post"]["operationId"] == "convert_lead"
    assert "already used" not in capsys.readouterr().out  # Ninja's warning for a repeated id


def test_errors_and_bulk_results_are_declared_with_their_schemas(db, api, rep_a):
    """A generated client learns the error shape of every operation and the type of a bulk result."""
    doc = json.loads(Client().get("/api/v1/openapi.json").content)
    error = {"$ref": "#/components/schemas/ErrorOut"}
    patch = doc["paths"]["/api/v1/contacts/{pk}"]["patch"]["responses"]
    for status in ("400", "401", "403", "404", "409", "422"):
        assert patch[status]["content"]["application/json"]["schema"] == error, status
    assert set(doc["components"]["schemas"]["ErrorOut"]["required"]) == {"error"}
    bulk = doc["paths"]["/api/v1/contacts/bulk"]["post"]["responses"]
    item = doc["components"]["schemas"]["ContactBulkItem"]
    assert bulk["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ContactBulkOut"}
    assert item["properties"]["record"] == {"$ref": "#/components/schemas/ContactOut"}
    # What the API answers is what it declares.
    r = api(rep_a).post("/contacts/bulk", {"items": [{"first_name": "Ann"}]})
    assert r.status_code == 200 and set(r.json()["items"][0]) == {"id", "created", "record"}
    r = api(rep_a).post("/contacts/bulk", {"items": [{"email": "nope"}]})
    assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message", "fields"}


def test_no_two_schemas_share_a_name():
    """OpenAPI names a component by its class name: two schemas called ``LineOut`` (an order's and a
    quote's line) silently become one, and one endpoint then documents the other's body."""
    from collections import defaultdict
    from importlib import import_module

    from ninja import Schema

    import_module("crm.api.root")  # every router imported
    seen, stack = defaultdict(set), [Schema]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith(("crm.", "tests.")) and "[" not in cls.__name__:
            seen[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}


def test_the_document_has_no_duplicated_keys(db, client):
    """A response keyed "200" beside Ninja's own 200 serializes as two "200" keys: Swagger UI then
    refuses the whole document ("duplicated mapping key")."""
    import json

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=no_duplicates)
