"""What the OpenAPI document declares is what the code checks: enums, limits and patterns come from the
declarations the code uses, a value inside them is taken and one just outside is refused."""

import json

from django.test import Client

from crm.core import recordtypes
from tests.test_api_helpers import make


def _doc():
    return json.loads(Client().get("/api/v1/openapi.json").content)


def _params(doc, path):
    return {p["name"]: p["schema"] for p in doc["paths"][path]["get"]["parameters"]}


def test_list_filters_and_paging_are_declared_from_the_registry(db):
    doc = _doc()
    for rt in recordtypes.all_types():
        params = _params(doc, f"/api/v1/{rt.slug}")
        for f in rt.fields:
            if f.filterable and f.kind == "choice":
                assert params[f.name]["enum"] == [value for value, _ in f.choices], (rt.slug, f.name)
        assert set(params["sort"]["enum"]) == {v for s in rt.sorts for v in (s, f"-{s}")}
        assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 200)
    assert _params(doc, "/api/v1/tasks/{pk}/changes")["limit"]["maximum"] == 500


def test_choice_filters_take_their_values_only(api, rep_a):
    make("tasks", rep_a, "Call back", priority="high")
    client = api(rep_a)
    found = client.get("/tasks", {"priority": "high"})
    assert found.status_code == 200 and [t["title"] for t in found.json()["items"]] == ["Call back"]
    refused = client.get("/tasks", {"priority": "someday"})
    assert refused.status_code == 400 and "priority" in refused.json()["error"]["fields"]


def test_a_datetime_filter_with_any_iso_offset_is_compared_in_utc(api, rep_a):
    # PostgreSQL refuses offsets beyond ±15:59; ISO 8601 allows up to ±23:59 (found by schemathesis).
    make("tasks", rep_a, "Call back", due_at="2030-01-01T12:00:00Z")
    r = api(rep_a).get("/tasks", {"due_at__lt": "2030-01-02T12:00:00+23:34"})
    assert r.status_code == 200 and [t["title"] for t in r.json()["items"]] == ["Call back"]


def test_web_addresses_match_the_declared_pattern(api, rep_a):
    doc = _doc()
    website = doc["components"]["schemas"]["CompanyIn"]["properties"]["website"]["anyOf"][0]
    assert website["pattern"].startswith("^(?:https?://")
    client = api(rep_a)
    assert client.post("/companies", {"name": "Acme", "website": "https://acme.example.com/about"}).status_code == 201
    for bad in ("ftp://acme.com", "https://acme", "javascript:alert(1)"):
        r = client.post("/companies", {"name": "Acme", "website": bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["fields"] == {"website": "Enter an http:// or https:// web address."}


def test_body_texts_declare_no_nul_and_amounts_their_digits(db):
    schemas = _doc()["components"]["schemas"]
    assert schemas["ContactIn"]["properties"]["first_name"]["anyOf"][0]["pattern"] == "^[^\\u0000]*$"
    amount = schemas["DealCreate"]["properties"]["amount"]["anyOf"]
    assert amount[0]["exclusiveMaximum"] == 10**16 and amount[1]["pattern"] == "^[0-9]{1,16}(\\.[0-9]{1,2})?$"


def test_fields_that_cannot_be_empty_do_not_accept_null(api, rep_a):
    client = api(rep_a)
    task = make("tasks", rep_a, "Call back")
    for field in ("status", "priority"):
        r = client.patch(f"/tasks/{task.pk}", {field: None})
        assert r.status_code == 422 and field in r.json()["error"]["fields"], r.content
    assert client.patch(f"/tasks/{task.pk}", {"priority": "low"}).status_code == 200
