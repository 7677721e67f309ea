"""Custom object types as record types of the registry (crm/objects/registry.py): built from their
definitions, their services bound, cached per process and rebuilt when any process changes one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core import recordtypes
from crm.core.errors import Conflict
from crm.customization.services import custom_field_create
from crm.objects import services
from crm.objects.models import CustomRecord, ObjectType, TypeGeneration
from crm.records.models import Activity
from crm.records.services.activities import activity_create
from tests.objects.conftest import user_with

pytestmark = pytest.mark.django_db

FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer", "required": True},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["petrol", "electric"]},
    {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["tow", "roof"]},
    {"key": "price", "label": "Price", "field_type": "money"},
    {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
    {"key": "plate", "label": "Plate", "field_type": "text", "searchable": True},
    {"key": "bought", "label": "Bought", "field_type": "date"},
]


@pytest.fixture
def vehicle(boss):
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    return services.object_type_create(actor=boss, data=data)


def test_a_defined_type_is_a_record_type_with_its_fields(vehicle, clerk):
    rt = recordtypes.by_type("vehicle")
    assert rt is recordtypes.by_slug("vehicles") and rt in recordtypes.all_types()
    assert (rt.model, rt.singular, rt.plural, rt.owner_field, rt.timeline, rt.run_time) == (
        CustomRecord,
        "vehicle",
        "vehicles",
        "owner",
        True,
        True,
    )
    assert [f.name for f in rt.fields] == ["id", "name", "owner", "created_at", "updated_at"] + [
        f["key"] for f in FIELDS
    ]
    kinds = {f.name: f.kind for f in rt.fields}
    assert (kinds["seats"], kinds["fuel"], kinds["extras"], kinds["price"], kinds["operator"]) == (
        "int",
        "choice",
        "multi",
        "decimal",
        "int",
    )
    assert rt.get_field("fuel").choices == (("petrol", "petrol"), ("electric", "electric"))
    assert rt.get_field("seats").required and rt.get_field("plate").searchable
    assert rt.get_field("price").filter_lookup == "custom_fields__price__amount"
    assert "extras" not in rt.sorts and rt.sorts["seats"] == "custom_fields__seats"
    saved = rt.create(actor=clerk, data={"name": "Van", "seats": 3})  # bound to the type
    assert recordtypes.of(saved.obj) is rt and list(rt.objects()) == [saved.obj]
    assert rt.extra["type"] == vehicle


def test_a_field_added_later_is_in_the_type_at_once(vehicle, boss):
    assert "vin" not in {f.name for f in recordtypes.by_type("vehicle").fields}
    custom_field_create(actor=boss, data={"object_type": "vehicle", "key": "vin", "label": "VIN", "field_type": "text"})
    assert recordtypes.by_type("vehicle").get_field("vin").kind == "str"


def test_an_archived_type_is_still_readable_but_refuses_writes(vehicle, boss, clerk):
    record = recordtypes.by_type("vehicle").create(actor=clerk, data={"name": "Van", "seats": 3}).obj
    services.object_type_archive(vehicle, actor=boss)
    rt = recordtypes.by_type("vehicle")
    assert rt.extra["archived"] and list(rt.restricted(clerk)) == [record]
    with pytest.raises(Conflict, match="archived"):
        rt.create(actor=clerk, data={"name": "Car", "seats": 2})
    with pytest.raises(Conflict, match="archived"):
        rt.update(record, actor=clerk, data={"seats": 4}, version=None)


def test_a_deleted_type_disappears(vehicle, boss):
    services.object_type_delete(vehicle, actor=boss)
    assert recordtypes.by_type("vehicle") is None and recordtypes.by_slug("vehicles") is None
    assert "vehicle" not in recordtypes.object_types()


def test_the_types_are_kept_without_a_query_per_read(vehicle):
    recordtypes.all_types()
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(20):
            recordtypes.all_types(), recordtypes.by_type("vehicle"), recordtypes.by_slug("nothing")
    assert len(ctx.captured_queries) == 0


def test_a_type_another_process_defined_is_seen_at_the_next_check(settings, db):
    """Another process's write changes the generation token; this one notices at its next check."""
    assert recordtypes.by_type("boat") is None
    ObjectType.objects.bulk_create(
        [ObjectType(key="boat", singular="Boat", plural="Boats", slug="boats", name_field="name")]
    )
    TypeGeneration.objects.update_or_create(pk=1, defaults={"token": "from-another-process"})  # no signal here
    assert recordtypes.by_type("boat") is None  # not checked again yet
    settings.RECORD_TYPES_RECHECK_SECONDS = 0
    assert recordtypes.by_type("boat").slug == "boats"


def test_a_rolled_back_definition_is_forgotten(boss):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.object_type_create(
            actor=boss, data={"key": "boat", "singular": "Boat", "plural": "Boats", "slug": "boats"}
        )
        assert recordtypes.by_type("boat") is not None
        raise RuntimeError("roll back")
    recordtypes.run_time_types_changed()  # what the next check after the recheck interval does
    assert recordtypes.by_type("boat") is None


def test_activities_link_to_custom_records_and_their_viewers_see_them(vehicle, fleet_team):
    driver = user_with("driver", {"vehicle": ["view", "add", "delete"]}, team=fleet_team)
    van = recordtypes.by_type("vehicle").create(actor=driver, data={"name": "Van", "seats": 3}).obj
    outsider = user_with("outsider", {"vehicle": ["view"], "activity": ["view", "add"]}, scope="all")
    data = {"kind": "call", "subject": "Service", "links": [{"type": "vehicle", "id": van.pk}]}
    call = activity_create(actor=outsider, data=data).obj
    assert list(Activity.objects.linked_to(van)) == [call] and call.links.get().record_type == "vehicle"
    # The driver's team manager sees the outsider's call through the vehicle; an own-scope colleague does not.
    lead = user_with("lead", {"vehicle": ["view"], "activity": ["view"]}, scope="team", team=fleet_team)
    colleague = user_with("colleague", {"vehicle": ["view"], "activity": ["view"]}, team=fleet_team)
    assert list(Activity.objects.restrict(lead)) == [call]
    assert list(Activity.objects.restrict(colleague)) == []
    assert list(Activity.objects.restrict(lead, "change")) == []  # a link lets them read, not write
    recordtypes.by_type("vehicle").delete(van, actor=driver, version=None)
    assert not call.links.exists()  # the activity stays, without the link
