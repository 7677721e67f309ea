"""Shared pieces of the API tests: per-type payloads and records written through the services.

No tests here; the test_api_* modules import these (records are made by the services, so they
are indexed for search and have change log entries, exactly as API-created ones would).
"""

from crm.records.api.routes import RESOURCES

KINDS = ("companies", "contacts", "leads", "deals", "activities", "tasks")
OBJECT_TYPE = {
    "companies": "company",
    "contacts": "contact",
    "leads": "lead",
    "deals": "deal",
    "activities": "activity",
    "tasks": "task",
}
# The field each type is named by, and the owner field a create sets.
LABEL = {
    "companies": "name",
    "contacts": "first_name",
    "leads": "first_name",
    "deals": "name",
    "activities": "subject",
    "tasks": "title",
}
OWNER = {kind: "assignee_id" if kind == "tasks" else "owner_id" for kind in KINDS}
# A valid PATCH body per type (changes one plain field).
PATCH = {
    "companies": {"industry": "Retail"},
    "contacts": {"title": "CFO"},
    "leads": {"title": "CTO"},
    "deals": {"currency": "EUR"},
    "activities": {"outcome": "reached"},
    "tasks": {"priority": "high"},
}


def payload(kind: str, label: str, **extra) -> dict:
    """A minimal valid create body for ``kind`` named ``label``."""
    data = {LABEL[kind]: label}
    if kind == "activities":
        data["kind"] = "note"
    return {**data, **extra}


def make(kind: str, owner, label: str = "Zed", **extra):
    """A record of ``kind`` created by (and owned by) ``owner`` through its service."""
    return RESOURCES[kind].create(actor=owner, data=payload(kind, label, **extra)).obj


def count(kind: str) -> int:
    return RESOURCES[kind].model.objects.count()


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is the API's error shape with this status (and code, and a message for field)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert error["message"], error
    if code is not None:
        assert error["code"] == code, error
    if field is not None:
        assert field in error["fields"], (field, error)
    return error
