"""Writes that must be all-or-nothing or exactly-once: bulk, Idempotency-Key, record versions."""

import pytest
from django.conf import settings

from crm.audit.models import ObjectChange
from tests.test_api_helpers import KINDS, LABEL, PATCH, assert_error, count, make, payload

# Per type, an item body that fails validation, and the field the error must name.
INVALID_ITEM = {
    "companies": ({"name": "x" * 300}, "name"),
    "contacts": ({"first_name": "Bad", "email": "nope"}, "email"),
    "leads": ({"first_name": "Bad", "score": "high"}, "score"),
    "deals": ({"name": "Bad", "amount": "lots"}, "amount"),
    "activities": ({"kind": "fax"}, "kind"),
    "tasks": ({"title": "Bad", "priority": "whenever"}, "priority"),
}


# The deals PATCH (tests.test_api_helpers) moves a deal to EUR, which must be enabled.
pytestmark = pytest.mark.usefixtures("foreign_currencies")


@pytest.mark.parametrize("kind", KINDS)
def test_bulk_creates_and_updates(kind, api, rep_a, pipeline):
    client = api(rep_a)
    r = client.post(f"/{kind}/bulk", {"items": [payload(kind, f"Bulk {i}") for i in range(3)]})
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    assert [i["created"] for i in items] == [True] * 3
    assert [i["record"][LABEL[kind]] for i in items] == ["Bulk 0", "Bulk 1", "Bulk 2"]
    assert count(kind) == 3
    updates = [{"id": i["id"], "version": 1, **PATCH[kind]} for i in items[:2]]
    r = client.post(f"/{kind}/bulk", {"items": [*updates, payload(kind, "Bulk 3")]})
    assert r.status_code == 200, r.content
    assert [i["created"] for i in r.json()["items"]] == [False, False, True]
    field, value = next(iter(PATCH[kind].items()))
    assert [i["record"][field] for i in r.json()["items"][:2]] == [value, value]
    assert [i["record"]["version"] for i in r.json()["items"][:2]] == [2, 2]
    assert count(kind) == 4


@pytest.mark.parametrize("kind", KINDS)
def test_bulk_with_one_bad_item_writes_nothing(kind, api, rep_a, pipeline):
    existing = make(kind, rep_a, "Existing")
    before, log = count(kind), ObjectChange.objects.count()
    bad, field = INVALID_ITEM[kind]
    items = [
        payload(kind, "Good 0"),
        {"id": existing.pk, **PATCH[kind]},
        bad,
        {"id": existing.pk, "version": 99},
        {"id": 987654, **PATCH[kind]},
        {"bogus": 1, **payload(kind, "Good 1")},
    ]
    r = api(rep_a).post(f"/{kind}/bulk", {"items": items})
    error = assert_error(r, 422, "validation_failed")
    assert set(error["fields"]) == {f"items.2.{field}", "items.3.version", "items.4", "items.5.bogus"}, error
    assert count(kind) == before and ObjectChange.objects.count() == log
    existing.refresh_from_db()
    assert existing.version == 1


@pytest.mark.parametrize("body", [{"items": []}, {"items": "all"}, {"items": [1]}, {}, {"items": [{}], "x": 1}])
def test_bulk_malformed_envelopes(body, api, rep_a):
    r = api(rep_a).post("/contacts/bulk", body)
    assert_error(r, 422, "validation_failed")
    assert count("contacts") == 0


def test_bulk_over_the_limit_is_refused(api, rep_a):
    items = [{"first_name": f"P{i}"} for i in range(settings.API_BULK_MAX_ITEMS + 1)]
    assert_error(api(rep_a).post("/contacts/bulk", {"items": items}), 422, "validation_failed", "items")
    assert count("contacts") == 0


def test_bulk_needs_the_permissions_of_each_item(api, rep_a, readonly, pipeline):
    contact = make("contacts", rep_a, "Kept")
    assert_error(api(readonly).post("/contacts/bulk", {"items": [{"first_name": "X"}]}), 403, "permission_denied")
    r = api(readonly).post("/contacts/bulk", {"items": [{"id": contact.pk, "title": "X"}]})
    assert_error(r, 403, "permission_denied")
    assert count("contacts") == 1
    contact.refresh_from_db()
    assert contact.version == 1


def test_idempotency_key_replays_the_first_response(api, rep_a, rep_b):
    client, key = api(rep_a), {"Idempotency-Key": "create-ann-1"}
    first = client.post("/contacts", {"first_name": "Ann"}, headers=key)
    again = client.post("/contacts", {"first_name": "Ann"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert count("contacts") == 1
    assert_error(client.post("/contacts", {"first_name": "Bob"}, headers=key), 409, "idempotency_key_reused")
    assert_error(client.post("/companies", {"name": "Ann"}, headers=key), 409, "idempotency_key_reused")
    assert count("contacts") == 1 and count("companies") == 0
    # Keys belong to a user: another user's identical key is a new request.
    assert api(rep_b).post("/contacts", {"first_name": "Ann"}, headers=key).status_code == 201
    assert count("contacts") == 2


def test_idempotency_key_of_a_failed_request_can_be_reused(api, rep_a):
    client, key = api(rep_a), {"Idempotency-Key": "retry-me"}
    assert_error(client.post("/contacts", {"first_name": "Ann", "email": "bad"}, headers=key), 422)
    r = client.post("/contacts", {"first_name": "Ann", "email": "ann@example.com"}, headers=key)
    assert r.status_code == 201 and count("contacts") == 1


@pytest.mark.parametrize("kind", KINDS)
def test_versions_guard_against_lost_updates(kind, api, rep_a, admin_user, pipeline):
    obj, client = make(kind, rep_a, "Orig"), api(rep_a)
    path = f"/{kind}/{obj.pk}"
    r = client.get(path)
    assert r["ETag"] == '"1"' and r.json()["version"] == 1
    assert client.patch(path, {**PATCH[kind], "version": 1}).status_code == 200
    # Both ways of sending a version that is now stale: nothing changes.
    stale = [
        client.patch(path, {LABEL[kind]: "Lost", "version": 1}),
        client.patch(path, {LABEL[kind]: "Lost"}, headers={"If-Match": '"1"'}),
    ]
    for r in stale:
        error = assert_error(r, 409, "version_conflict")
        assert error["fields"] == {"version": "2"}
    obj.refresh_from_db()
    assert obj.version == 2 and getattr(obj, LABEL[kind]) == "Orig"
    r = client.patch(path, {LABEL[kind]: "Third"}, headers={"If-Match": 'W/"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3 and r["ETag"] == '"3"'
    r = client.patch(path, {LABEL[kind]: "Fourth"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.json()["version"] == 4
    assert client.get(path)["ETag"] == '"4"'
    boss = api(admin_user)
    assert_error(boss.delete(f"{path}?version=3"), 409, "version_conflict")
    assert_error(boss.delete(path, headers={"If-Match": '"3"'}), 409, "version_conflict")
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert boss.delete(path, headers={"If-Match": '"4"'}).status_code == 204
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_a_contacts_former_company_is_kept_and_listed(api, rep_a):
    client = api(rep_a)
    old = client.post("/companies", {"name": "Old Co"}).json()
    new = client.post("/companies", {"name": "New Co"}).json()
    contact = client.post("/contacts", {"first_name": "Ann", "title": "CTO", "company_id": old["id"]}).json()
    r = client.patch(f"/contacts/{contact['id']}", {"company_id": new["id"], "version": contact["version"]})
    assert r.status_code == 200, r.content
    body = client.get(f"/contacts/{contact['id']}").json()
    assert body["company_id"] == new["id"]
    assert [(p["company_id"], p["title"]) for p in body["past_companies"]] == [(old["id"], "CTO")]
