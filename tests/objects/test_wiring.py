"""What a custom type gets through the registry besides its API: global search (its searchable fields),
exports, domain events, rules naming its key, and webhooks."""

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client

from crm.automation import rules
from crm.automation.models import RuleRun, RunStatus, WebhookDelivery, WebhookSubscription
from crm.core import events
from crm.core.errors import ValidationFailed
from crm.objects import services
from crm.objects.models import CustomRecord
from crm.search.backends import backend
from crm.search.index import rebuild
from crm.search.registry import code_of, searchables
from tests.automation.conftest import IMMEDIATE
from tests.conftest import Api
from tests.objects.conftest import user_with

pytestmark = pytest.mark.django_db
BASE = "/objects/vehicles"
FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer"},
    {"key": "plate", "label": "Plate", "field_type": "text", "searchable": True},
    {"key": "hotline", "label": "Hotline", "field_type": "phone", "searchable": True},
    {"key": "notes", "label": "Notes", "field_type": "text"},
]


@pytest.fixture
def vehicle(boss):
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    return services.object_type_create(actor=boss, data=data)


@pytest.fixture
def commit(django_capture_on_commit_callbacks, settings):
    """Run a block, then its on-commit callbacks (events, jobs run in-process), as a real commit would."""
    settings.TASKS = IMMEDIATE
    return lambda: django_capture_on_commit_callbacks(execute=True)


def post(user, values):
    r = Api(user).post(BASE, {"values": values})
    assert r.status_code == 201, r.content
    return r.json()


def found(user, q, **params) -> list[str]:
    r = Api(user).get("/search", {"q": q, **params})
    assert r.status_code == 200, r.content
    return [hit["name"] for hit in r.json().get("vehicle", [])]


def test_search_finds_records_by_their_searchable_fields(vehicle, clerk, other_clerk):
    assert "vehicle" in searchables()
    van = post(clerk, {"name": "Blue van", "plate": "KX-204", "hotline": "+1 202 555 0100", "notes": "secret"})
    post(other_clerk, {"name": "Blue bus", "plate": "KX-999"})
    assert code_of("vehicle") != code_of("contact")  # the kinds table gave the new type a number
    assert found(clerk, "blue") == ["Blue van"]  # own scope: not the colleague's bus
    assert found(clerk, "kx 204") == ["Blue van"] and found(clerk, "2025550100") == ["Blue van"]
    assert found(clerk, "secret") == []  # not a searchable field
    assert found(clerk, "blue", types="vehicle") == ["Blue van"]
    Api(clerk).patch(f"{BASE}/{van['id']}", {"values": {"plate": "ZZ-1"}})
    assert found(clerk, "kx") == [] and found(clerk, "zz") == ["Blue van"]
    Api(clerk).delete(f"{BASE}/{van['id']}")
    assert found(clerk, "blue") == []


def test_search_index_rebuild_and_types_without_searchable_fields(vehicle, boss, clerk):
    post(clerk, {"name": "Van", "plate": "AB-1"})
    assert rebuild(["vehicle"]) == 1 and found(clerk, "ab") == ["Van"]
    data = {"key": "boat", "singular": "Boat", "plural": "Boats", "slug": "boats"}
    services.object_type_create(actor=boss, data=data)
    assert "boat" not in searchables()


def test_the_web_search_links_custom_records_to_their_pages(vehicle, clerk):
    """The header search links every hit to its page; custom types have theirs (crm/web)."""
    van = post(clerk, {"name": "Blue van", "plate": "KX-204"})
    client = Client()
    client.force_login(clerk)
    r = client.get("/search/", {"q": "blue"})
    assert r.status_code == 200 and f'href="/vehicles/{van["id"]}/"'.encode() in r.content
    assert found(clerk, "blue") == ["Blue van"]


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_csv_and_xlsx_with_filters_scope_and_inert_formulas(vehicle, clerk, other_clerk):
    post(clerk, {"name": "=HYPERLINK(1)", "seats": 2, "notes": "@SUM(A1)"})
    post(clerk, {"name": "Bus", "seats": 40})
    post(other_clerk, {"name": "Theirs", "seats": 9})
    rows = csv_rows(Api(clerk).get("/export/vehicles"))
    assert list(rows[0])[:3] == ["id", "name", "owner_id"] and {"cf_seats", "cf_plate", "cf_notes"} <= set(rows[0])
    assert sorted(r["name"] for r in rows) == ["'=HYPERLINK(1)", "Bus"]  # own scope, formulas made inert
    assert next(r["cf_notes"] for r in rows if r["cf_seats"] == "2") == "'@SUM(A1)"
    assert [r["name"] for r in csv_rows(Api(clerk).get("/export/vehicles", {"seats__gt": "10"}))] == ["Bus"]
    response = Api(clerk).get("/export/vehicles", {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    table = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert sorted(r[table[0].index("name")] for r in table[1:]) == ["'=HYPERLINK(1)", "Bus"]


def test_export_needs_the_export_action(vehicle, clerk):
    no_export = user_with("no_export", {"vehicle": ["view", "add"]})
    r = Api(no_export).get("/export/vehicles")
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert Api(clerk).get("/export/spaceships").status_code == 400


def test_record_services_emit_events(vehicle, clerk, commit):
    seen = []

    def listener(event):
        seen.append((event.type, event.object_type, event.object_id))

    events.subscribe(listener)
    try:
        with commit():
            van = post(clerk, {"name": "Van", "seats": 2})
        with commit():
            Api(clerk).patch(f"{BASE}/{van['id']}", {"values": {"seats": 3}})
        with commit():
            Api(clerk).patch(f"{BASE}/{van['id']}", {"values": {"seats": 3}})  # no change: no event
        with commit():
            Api(clerk).delete(f"{BASE}/{van['id']}")
    finally:
        events.unsubscribe(listener)
    assert seen == [(t, "vehicle", van["id"]) for t in ("record.created", "record.updated", "record.deleted")]


def test_rules_fire_on_a_custom_type_and_act_through_its_services(vehicle, boss, clerk, commit):
    rule = rules.rule_create(
        actor=boss,
        data={
            "name": "Big vehicles get a note",
            "object_type": "vehicle",
            "trigger_type": "created",
            "conditions": {"all": [{"field": "seats", "op": "gt", "value": 8}]},
            "actions": [{"type": "update_fields", "fields": {"notes": "big"}}],
        },
    )
    with commit():
        small = post(clerk, {"name": "Van", "seats": 2})
    with commit():
        big = post(clerk, {"name": "Bus", "seats": 40})
    assert CustomRecord.objects.get(pk=big["id"]).custom_fields["notes"] == "big"
    assert "notes" not in CustomRecord.objects.get(pk=small["id"]).custom_fields
    runs = RuleRun.objects.filter(rule=rule)
    assert [r.object_id for r in runs.filter(status=RunStatus.SUCCEEDED)] == [big["id"]]


def test_a_rule_on_an_unknown_field_of_the_type_is_refused(vehicle, boss):
    data = {"name": "r", "object_type": "vehicle", "trigger_type": "created", "actions": []}
    with pytest.raises(ValidationFailed) as exc:
        rules.rule_create(actor=boss, data={**data, "conditions": {"all": [{"field": "wheels", "value": 4}]}})
    assert "conditions.all.0" in exc.value.fields


def test_webhooks_are_queued_for_custom_record_events(vehicle, clerk, commit, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    WebhookSubscription.objects.create(
        name="fleet", url="https://example.com/hook", event_types=["record.created"], object_types=["vehicle"]
    )
    with commit():
        van = post(clerk, {"name": "Van", "seats": 2})
    delivery = WebhookDelivery.objects.get()
    payload = delivery.payload
    assert (payload["type"], payload["object_type"], payload["object_id"]) == ("record.created", "vehicle", van["id"])
    assert payload["data"]["custom_fields"]["seats"] == 2 and payload["data"]["name"] == "Van"


def test_web_pages_of_records_linked_to_custom_records_still_render(vehicle, boss):
    from crm.records.services.activities import activity_create
    from tests.factories import ContactFactory

    van = post(boss, {"name": "Van", "seats": 2})
    contact = ContactFactory(owner=boss)
    links = [{"type": "contact", "id": contact.pk}, {"type": "vehicle", "id": van["id"]}]
    activity_create(actor=boss, data={"kind": "call", "subject": "Service", "links": links})
    client = Client()
    client.force_login(boss)
    for path in ("/", f"/contacts/{contact.pk}/"):
        r = client.get(path)
        assert r.status_code == 200 and b"Service" in r.content, path


def test_deleting_a_type_takes_its_records_out_of_search_and_timelines(vehicle, boss, clerk):
    from crm.records.models import ActivityLink
    from crm.records.services.activities import activity_create

    van = post(boss, {"name": "Blue van", "plate": "KX-1"})
    activity_create(actor=boss, data={"kind": "call", "subject": "x", "links": [{"type": "vehicle", "id": van["id"]}]})
    assert found(boss, "blue", types="vehicle") == ["Blue van"]
    services.object_type_delete(vehicle, actor=boss, confirm=True)
    sql, params = backend().match_sql("vehicle", ["blue"])
    with connection.cursor() as cur:
        cur.execute(sql, params)
        assert cur.fetchall() == []  # no index row left behind
    assert not ActivityLink.objects.filter(record_type="vehicle").exists()


def test_a_field_changed_rule_names_the_custom_field_by_its_key(vehicle, boss, clerk, commit):
    rule = rules.rule_create(
        actor=boss,
        data={
            "name": "Seats changed",
            "object_type": "vehicle",
            "trigger_type": "field_changed",
            "trigger": {"field": "seats", "to": 9},
            "actions": [{"type": "update_fields", "fields": {"notes": "resized"}}],
        },
    )
    with commit():
        van = post(clerk, {"name": "Van", "seats": 2})
    for values in ({"plate": "X"}, {"seats": 4}, {"seats": 9}):
        with commit():
            Api(clerk).patch(f"{BASE}/{van['id']}", {"values": values})
    assert RuleRun.objects.filter(rule=rule).count() == 1
    assert CustomRecord.objects.get(pk=van["id"]).custom_fields["notes"] == "resized"
