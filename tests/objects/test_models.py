"""Custom records share one table; visibility is the role of each record's own type."""

import pytest

from crm.access.services import role_create
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.objects.models import CustomRecord
from crm.objects.selectors import records_of
from tests.factories import UserFactory
from tests.objects.conftest import make_type

pytestmark = pytest.mark.django_db


def test_a_record_has_the_object_type_of_its_type():
    vehicle = make_type("vehicle")
    record = CustomRecord.objects.create(type=vehicle, name="Van")
    assert record.object_type == "vehicle"
    assert str(record) == "Van"


def test_records_of_applies_the_role_of_that_type_and_its_scope(clerk, other_clerk, fleet_manager, vehicle_viewer):
    vehicle, boat = make_type("vehicle"), make_type("boat")
    mine = CustomRecord.objects.create(type=vehicle, name="Mine", owner=clerk)
    theirs = CustomRecord.objects.create(type=vehicle, name="Theirs", owner=other_clerk)
    CustomRecord.objects.create(type=boat, name="Boat", owner=clerk)

    assert list(records_of(vehicle, clerk)) == [mine]  # own scope
    assert set(records_of(vehicle, fleet_manager)) == {mine, theirs}  # team scope
    assert set(records_of(vehicle, vehicle_viewer)) == {mine, theirs}  # all scope
    assert not records_of(vehicle, vehicle_viewer, "change").exists()  # view only
    assert not records_of(boat, clerk).exists()  # no grant on boats, though they own one


def test_restricting_records_of_no_single_type_is_refused(clerk):
    with pytest.raises(TypeError):
        CustomRecord.objects.restrict(clerk)


def test_the_registry_knows_run_time_types_and_reaches_their_records(clerk):
    vehicle = make_type("vehicle")
    record = CustomRecord.objects.create(type=vehicle, name="Van", owner=clerk)
    assert recordtypes.known_types()[-1] == "vehicle" and "contact" in recordtypes.known_types()
    assert "vehicle" in recordtypes.object_types() and not recordtypes.declared("vehicle")
    assert list(recordtypes.record_queryset("vehicle")) == [record]
    assert list(recordtypes.record_queryset("vehicle", clerk, "view")) == [record]
    assert recordtypes.record_queryset("spaceship") is None


def test_a_role_may_grant_a_custom_type_but_not_an_unknown_one():
    make_type("vehicle")
    admin = UserFactory(role="admin")
    role = role_create(actor=admin, data={"name": "Fleet", "slug": "fleet", "permissions": {"vehicle": ["view"]}})
    assert role.permissions == {"vehicle": ["view"]}
    with pytest.raises(ValidationFailed) as exc:
        role_create(actor=admin, data={"name": "X", "slug": "x", "permissions": {"spaceship": ["view"]}})
    assert "spaceship" in exc.value.fields["permissions"]
