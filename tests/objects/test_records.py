"""Custom record services: permissions per type, validation, unique values, versions, archive, log."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.customization.services import custom_field_create
from crm.objects import services
from crm.objects.models import CustomRecord
from crm.objects.records import record_create, record_delete, record_update
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vehicle(boss):
    fields = [
        {"key": "vin", "label": "VIN", "field_type": "text", "unique": True},
        {"key": "seats", "label": "Seats", "field_type": "integer", "required": True, "default": 5},
        {"key": "price", "label": "Price", "field_type": "money"},
        {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
    ]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


def make(actor, vehicle, **data):
    return record_create(actor=actor, object_type=vehicle, data={"name": "Van", **data}).obj


def nothing_written(before_records=0, before_log=None):
    assert CustomRecord.objects.count() == before_records
    if before_log is not None:
        assert ObjectChange.objects.filter(object_type="vehicle").count() == before_log


def test_create_validates_stores_names_and_logs(clerk, vehicle):
    company = CompanyFactory(owner=clerk)
    record = make(clerk, vehicle, vin="WVW1", price={"amount": "19999.90", "currency": "eur"}, operator=company.pk)
    record.refresh_from_db()
    assert record.custom_fields == {
        "name": "Van",
        "vin": "WVW1",
        "seats": 5,
        "price": {"amount": 19999.9, "currency": "EUR"},
        "operator": company.pk,
    }
    assert (record.name, record.owner, record.version, record.object_type) == ("Van", clerk, 1, "vehicle")
    entry = ObjectChange.objects.get(object_type="vehicle", object_id=record.pk)
    assert (entry.action, entry.user) == ("create", clerk)
    assert entry.changes["name"] == [None, "Van"] and entry.changes["custom_fields"][1]["vin"] == "WVW1"


def test_bad_values_name_their_fields_and_write_nothing(clerk, other_clerk, vehicle):
    hidden = CompanyFactory(owner=other_clerk)
    with pytest.raises(ValidationFailed) as exc:
        record_create(
            actor=clerk,
            object_type=vehicle,
            data={"seats": "many", "price": 12, "operator": hidden.pk, "colour": "red", "owner_id": 10**9},
        )
    assert exc.value.fields == {
        "name": "This field is required.",
        "seats": "Must be a whole number.",
        "price": 'Must be {"amount": <number>, "currency": "<ISO code>"}.',
        "operator": f"No company with id {hidden.pk}.",
        "colour": "Unknown field.",
        "owner_id": f"No active user with id {10**9}.",
    }
    with pytest.raises(ValidationFailed):
        record_create(actor=clerk, object_type=vehicle, data=["not", "an", "object"])
    nothing_written(0, 0)


def test_a_unique_value_is_held_by_one_record_of_the_type(clerk, other_clerk, vehicle, boss):
    first = make(clerk, vehicle, vin="WVW1")
    with pytest.raises(ValidationFailed) as exc:
        make(other_clerk, vehicle, vin="WVW1")  # even one the writer cannot see
    assert exc.value.fields == {"vin": "Another vehicle already has 'WVW1'."}
    nothing_written(1, 1)
    assert record_update(first, actor=clerk, data={"vin": "WVW1", "seats": 7}, version=1).obj.version == 2
    boat = services.object_type_create(
        actor=boss, data={"key": "boat", "singular": "Boat", "plural": "Boats", "slug": "boats"}
    )
    custom_field_create(actor=boss, data={"object_type": "boat", "key": "vin", "label": "V", "field_type": "text"})
    record_create(actor=boss, object_type=boat, data={"name": "B", "vin": "WVW1"})  # other types do not count


def test_update_bumps_the_version_refuses_a_stale_one_and_keeps_the_name(clerk, vehicle):
    record = make(clerk, vehicle)
    saved = record_update(record, actor=clerk, data={"name": "Big van", "seats": 9}, version=1).obj
    assert (saved.version, saved.name, saved.custom_fields["seats"]) == (2, "Big van", 9)
    assert ObjectChange.objects.filter(object_type="vehicle", action="update").get().changes["name"] == [
        "Van",
        "Big van",
    ]
    with pytest.raises(Conflict) as exc:
        record_update(record, actor=clerk, data={"seats": 2}, version=1)
    assert exc.value.code == "version_conflict" and exc.value.status == 409
    assert CustomRecord.objects.get().custom_fields["seats"] == 9
    with pytest.raises(ValidationFailed) as exc:
        record_update(record, actor=clerk, data={"name": None})
    assert exc.value.fields == {"name": "This field is required."}


def test_a_role_with_only_view_cannot_write(vehicle_viewer, clerk, vehicle):
    record = make(clerk, vehicle)
    with pytest.raises(PermissionDenied):
        make(vehicle_viewer, vehicle)
    with pytest.raises(PermissionDenied):
        record_update(record, actor=vehicle_viewer, data={"seats": 1})
    with pytest.raises(PermissionDenied):
        record_delete(record, actor=vehicle_viewer)
    nothing_written(1, 1)
    assert CustomRecord.objects.get().version == 1


def test_own_scope_cannot_touch_or_see_others_records(clerk, other_clerk, fleet_manager, vehicle, rep_a):
    theirs = make(other_clerk, vehicle)
    with pytest.raises(NotFound):
        record_update(theirs, actor=clerk, data={"seats": 1})
    with pytest.raises(NotFound):
        record_delete(theirs, actor=clerk)
    with pytest.raises(PermissionDenied):
        make(rep_a, vehicle)  # a role without the type at all
    assert record_update(theirs, actor=fleet_manager, data={"seats": 3}).obj.custom_fields["seats"] == 3


def test_giving_a_record_away_out_of_sight_is_rolled_back(clerk, other_clerk, vehicle):
    record = make(clerk, vehicle)
    with pytest.raises(PermissionDenied):
        record_update(record, actor=clerk, data={"owner_id": other_clerk.pk, "seats": 2})
    stored = CustomRecord.objects.get()
    assert (stored.owner, stored.version, stored.custom_fields["seats"]) == (clerk, 1, 5)
    with pytest.raises(PermissionDenied):
        make(clerk, vehicle, owner_id=other_clerk.pk)
    nothing_written(1, 1)


def test_an_archived_type_refuses_writes(boss, clerk, vehicle):
    record = make(clerk, vehicle)
    services.object_type_archive(vehicle, actor=boss)
    for write in (
        lambda: make(clerk, vehicle),
        lambda: record_update(record, actor=clerk, data={"seats": 1}),
        lambda: record_delete(record, actor=clerk),
    ):
        with pytest.raises(Conflict) as exc:
            write()
        assert exc.value.code == "archived"
    nothing_written(1, 1)
    services.object_type_unarchive(vehicle, actor=boss)
    assert record_update(record, actor=clerk, data={"seats": 1}).obj.version == 2


def test_delete_logs_and_checks_the_version(clerk, vehicle):
    record = make(clerk, vehicle, vin="X1")
    with pytest.raises(Conflict):
        record_delete(record, actor=clerk, version=7)
    record_delete(record, actor=clerk, version=1)
    assert not CustomRecord.objects.exists()
    entry = ObjectChange.objects.get(object_type="vehicle", action="delete")
    assert entry.object_id == record.pk and entry.changes["name"] == ["Van", None]
    make(clerk, vehicle, vin="X1")  # the value is free again


def test_record_attributes_are_not_field_keys(boss, vehicle):
    from crm.core.errors import ValidationFailed as Failed

    with pytest.raises(Failed) as exc:
        custom_field_create(
            actor=boss, data={"object_type": "vehicle", "key": "owner_id", "label": "O", "field_type": "integer"}
        )
    assert "record attribute" in exc.value.fields["key"]


def test_the_filter_language_reads_a_custom_types_fields(clerk, vehicle):
    from crm.core.filters import build_q
    from crm.objects.selectors import records_of

    for name, amount, seats in (("A", "10", 2), ("B", "99.5", 7), ("C", "150", 7)):
        make(clerk, vehicle, name=name, price={"amount": amount, "currency": "EUR"}, seats=seats)

    def names(**params):
        return sorted(records_of(vehicle, clerk).filter(build_q("vehicle", params, {})).values_list("name", flat=True))

    assert names(cf_price__gt="10", cf_seats="7") == ["B", "C"]
    assert names(cf_price__lte="99.5") == ["A", "B"]
