"""Custom object type definitions: admin only, checked, logged, key immutable, archive, delete."""

import pytest

from crm.access.models import Role
from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, PermissionDenied, ValidationFailed
from crm.customization.models import CustomField
from crm.customization.services import custom_field_create, custom_field_delete, custom_field_update
from crm.objects import services
from crm.objects.models import CustomRecord, ObjectType

pytestmark = pytest.mark.django_db

VEHICLE = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "colour": "#1E40AF"}


def create(boss, **overrides):
    return services.object_type_create(actor=boss, data=VEHICLE | overrides)


def refused(boss, **overrides) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        create(boss, **overrides)
    assert not ObjectType.objects.exists() and not CustomField.objects.exists()  # nothing half-written
    assert not ObjectChange.objects.exists()
    return exc.value.fields


def test_create_makes_the_type_its_name_field_and_its_fields_and_logs_them(boss):
    fields = [{"key": "vin", "label": "VIN", "field_type": "text", "unique": True}]
    vehicle = create(boss, fields=fields)
    assert (vehicle.key, vehicle.slug, vehicle.colour, vehicle.name_field) == ("vehicle", "vehicles", "#1e40af", "name")
    made = {f.key: f for f in CustomField.objects.filter(object_type="vehicle")}
    assert set(made) == {"name", "vin"}
    assert made["name"].field_type == "text" and made["name"].required
    assert made["vin"].unique
    logged = ObjectChange.objects.filter(object_type="object_type", object_id=vehicle.pk).get()
    assert logged.action == "create" and logged.changes["key"] == [None, "vehicle"] and logged.user == boss
    assert ObjectChange.objects.filter(object_type="custom_field", action="create").count() == 2


def test_the_name_field_may_come_with_the_fields_but_must_be_text(boss):
    vehicle = create(boss, name_field="plate", fields=[{"key": "plate", "label": "Plate", "field_type": "text"}])
    assert vehicle.name_field == "plate" and CustomField.objects.filter(object_type="vehicle").count() == 1
    ObjectType.objects.all().delete()
    CustomField.objects.all().delete()
    ObjectChange.objects.all().delete()
    fields = [{"key": "plate", "label": "Plate", "field_type": "integer"}]
    assert "name_field" in refused(boss, name_field="plate", fields=fields)


RESERVED_KEYS = ["contact", "deal", "task", "user", "objects", "settings", "search", "new", "role", "custom_field"]
RESERVED_SLUGS = ["contacts", "activities", "imports", "board", "healthz", "api", "admin", "pipelines", "custom-fields"]


@pytest.mark.parametrize("name", RESERVED_KEYS)
def test_reserved_keys_are_refused(boss, name):
    assert refused(boss, key=name) == {"key": f"{name!r} is reserved."}


@pytest.mark.parametrize("name", RESERVED_SLUGS)
def test_reserved_slugs_are_refused(boss, name):
    assert refused(boss, slug=name) == {"slug": f"{name!r} is reserved."}


def test_bad_and_duplicate_keys_and_slugs_name_the_field(boss):
    assert "key" in refused(boss, key="Vehicle")
    assert "key" in refused(boss, key="v")
    assert "slug" in refused(boss, slug="with_underscore")
    assert "colour" in refused(boss, colour="blue")
    assert "fields.0.field_type" in refused(boss, fields=[{"key": "x", "label": "X", "field_type": "colour"}])
    create(boss)
    with pytest.raises(ValidationFailed) as exc:
        create(boss, slug="cars")
    assert "key" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        create(boss, key="car")
    assert "slug" in exc.value.fields


def test_only_admins_manage_types(boss, rep_a):
    with pytest.raises(PermissionDenied):
        create(rep_a)
    vehicle = create(boss)
    for call in (
        lambda: services.object_type_update(vehicle, actor=rep_a, data={"plural": "Cars"}),
        lambda: services.object_type_archive(vehicle, actor=rep_a),
        lambda: services.object_type_delete(vehicle, actor=rep_a),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_update_logs_the_change_and_the_key_never_changes(boss):
    vehicle = create(boss)
    saved = services.object_type_update(vehicle, actor=boss, data={"plural": "Cars", "key": "vehicle"})
    assert saved.plural == "Cars"
    assert ObjectChange.objects.filter(object_type="object_type", action="update").get().changes == {
        "plural": ["Vehicles", "Cars"]
    }
    with pytest.raises(ValidationFailed) as exc:
        services.object_type_update(vehicle, actor=boss, data={"key": "car", "plural": "Autos"})
    assert "key" in exc.value.fields and ObjectType.objects.get().plural == "Cars"


def test_the_name_field_can_move_to_another_text_field_and_the_names_follow(boss):
    vehicle = create(
        boss,
        fields=[
            {"key": "plate", "label": "Plate", "field_type": "text"},
            {"key": "year", "label": "Year", "field_type": "integer"},
        ],
    )
    CustomRecord.objects.create(type=vehicle, name="Van", custom_fields={"name": "Van", "plate": "AB-12"})
    with pytest.raises(ValidationFailed) as exc:
        services.object_type_update(vehicle, actor=boss, data={"name_field": "year"})
    assert "name_field" in exc.value.fields
    services.object_type_update(vehicle, actor=boss, data={"name_field": "plate"})
    assert CustomRecord.objects.get().name == "AB-12"


def test_the_name_field_cannot_be_deleted_or_stop_being_text(boss):
    create(boss)
    name = CustomField.objects.get(object_type="vehicle", key="name")
    with pytest.raises(ValidationFailed) as exc:
        custom_field_delete(name, actor=boss, confirm=True)
    assert "name field of Vehicles" in exc.value.fields["key"]
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(name, actor=boss, data={"field_type": "long_text"})
    assert "stays a text field" in exc.value.fields["field_type"]
    assert CustomField.objects.get(pk=name.pk).field_type == "text"


def test_a_field_becomes_unique_only_when_no_values_are_shared(boss):
    vehicle = create(boss, fields=[{"key": "vin", "label": "VIN", "field_type": "text"}])
    vin = CustomField.objects.get(key="vin")
    for value in ("A1", "A1", "B2"):
        CustomRecord.objects.create(type=vehicle, custom_fields={"vin": value})
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(vin, actor=boss, data={"unique": True})
    assert exc.value.fields == {"unique": "1 values are held by more than one record: 'A1'."}
    CustomRecord.objects.filter(custom_fields__vin="A1").first().delete()
    assert custom_field_update(vin, actor=boss, data={"unique": True}).unique


def test_archive_and_unarchive_are_logged(boss):
    vehicle = create(boss)
    assert services.object_type_archive(vehicle, actor=boss).archived
    assert not services.object_type_unarchive(vehicle, actor=boss).archived
    rows = ObjectChange.objects.filter(object_type="object_type", action="update").order_by("id")
    assert [list(r.changes) for r in rows] == [["archived_at"], ["archived_at"]]


def test_delete_with_records_needs_confirmation_then_deletes_them_all(boss):
    vehicle = create(boss)
    boat = create(boss, key="boat", slug="boats", plural="Boats")
    role = Role.objects.create(name="Fleet", slug="fleet", permissions={"vehicle": ["view"], "contact": ["view"]})
    records = [CustomRecord.objects.create(type=vehicle, name=f"V{i}") for i in range(3)]
    kept = CustomRecord.objects.create(type=boat, name="Boat")

    with pytest.raises(Conflict) as exc:
        services.object_type_delete(vehicle, actor=boss)
    assert exc.value.code == "confirm_required" and "3 Vehicles exist" in exc.value.message
    assert CustomRecord.objects.count() == 4 and ObjectType.objects.filter(key="vehicle").exists()

    assert services.object_type_delete(vehicle, actor=boss, confirm=True) == 3
    assert list(CustomRecord.objects.all()) == [kept]
    assert not CustomField.objects.filter(object_type="vehicle").exists()
    role.refresh_from_db()
    assert role.permissions == {"contact": ["view"]}
    entry = ObjectChange.objects.get(object_type="object_type", object_id=vehicle.pk, action="delete")
    assert entry.changes["records_deleted"] == [3, None]
    deleted = ObjectChange.objects.filter(object_type="vehicle", action="delete")
    assert sorted(deleted.values_list("object_id", flat=True)) == [r.pk for r in records]


def test_an_empty_type_is_deleted_without_confirmation(boss):
    vehicle = create(boss)
    assert services.object_type_delete(vehicle, actor=boss) == 0
    assert not ObjectType.objects.exists()


def test_a_type_other_types_look_up_cannot_be_deleted(boss):
    vehicle = create(boss)
    create(boss, key="trip", slug="trips", plural="Trips")
    data = {"object_type": "trip", "key": "car", "label": "Car", "field_type": "lookup", "target": "vehicle"}
    custom_field_create(actor=boss, data=data)
    with pytest.raises(ValidationFailed) as exc:
        services.object_type_delete(vehicle, actor=boss, confirm=True)
    assert exc.value.fields == {"key": "Lookup fields point at Vehicles: trip.car."}
    assert ObjectType.objects.filter(key="vehicle").exists()
