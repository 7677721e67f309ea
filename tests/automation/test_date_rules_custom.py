"""Date-relative rules on custom date fields: a declared type's ``cf_<key>`` (a contact's renewal date)
and a custom object type's own date and datetime fields fire once per record and value, like a
model's date column."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.automation import rules
from crm.automation.models import RuleFiring
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.customization.services import custom_field_create
from crm.objects import services as object_types
from crm.objects.models import CustomRecord
from crm.records.models import Task
from crm.records.services.contacts import contact_create

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def date_rule(admin, object_type, field, **trigger):
    return rules.rule_create(
        actor=admin,
        data={
            "name": f"{field} coming",
            "object_type": object_type,
            "trigger_type": "date",
            "trigger": {"field": field, **trigger},
            "actions": [{"type": "create_task", "title": "Follow up"}],
        },
    )


def backdate(rule, days=30):
    type(rule).objects.filter(pk=rule.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def test_a_contacts_custom_date_fires_once_before_it(admin_user, rep_a, commit, tick):
    field = {"object_type": "contact", "key": "renewal", "label": "Renewal", "field_type": "date"}
    custom_field_create(actor=admin_user, data=field)
    rule = date_rule(admin_user, "contact", "cf_renewal", offset_days=-7)
    with commit():
        due = contact_create(actor=rep_a, data={"first_name": "Due", "custom_fields": {"renewal": str(TODAY)}}).obj
        later = contact_create(
            actor=rep_a, data={"first_name": "Later", "custom_fields": {"renewal": str(TODAY + dt.timedelta(days=30))}}
        ).obj
        contact_create(actor=rep_a, data={"first_name": "None"})
    backdate(rule)
    with commit():
        assert tick()["date_rules"] == 1
    with commit():
        assert tick()["date_rules"] == 0  # once per record and date
    assert Task.objects.linked_to(due).count() == 1 and not Task.objects.linked_to(later).exists()
    assert RuleFiring.objects.get(rule=rule).value_date == TODAY


def test_a_custom_types_date_and_datetime_fields(admin_user, commit, tick):
    fields = [
        {"key": "inspection", "label": "Inspection", "field_type": "date"},
        {"key": "checked_at", "label": "Checked at", "field_type": "datetime"},
    ]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    object_types.object_type_create(actor=admin_user, data=data)
    by_date = date_rule(admin_user, "vehicle", "inspection", offset_days=-1)
    by_time = date_rule(admin_user, "vehicle", "checked_at", offset_hours=24)
    backdate(by_date)
    backdate(by_time)
    now = timezone.now()
    values = [
        {"inspection": str(TODAY + dt.timedelta(days=1)), "checked_at": (now - dt.timedelta(hours=30)).isoformat()},
        {"inspection": str(TODAY + dt.timedelta(days=9)), "checked_at": (now - dt.timedelta(hours=2)).isoformat()},
    ]
    rt = recordtypes.by_type("vehicle")
    with commit():
        due, later = (rt.create(actor=admin_user, data={"name": f"V{i}", **v}).obj for i, v in enumerate(values))
    with commit():
        assert tick()["date_rules"] == 2  # one per rule, both on the first vehicle
    assert sorted(RuleFiring.objects.values_list("object_id", flat=True)) == [due.pk, due.pk]
    assert Task.objects.linked_to(due).count() == 2 and not Task.objects.linked_to(later).exists()
    assert CustomRecord.objects.count() == 2


def test_a_date_rule_names_a_date_field_of_its_type(admin_user):
    custom_field_create(
        actor=admin_user, data={"object_type": "contact", "key": "renewal", "label": "Renewal", "field_type": "date"}
    )
    with pytest.raises(ValidationFailed) as exc:
        date_rule(admin_user, "contact", "renewal")  # a declared type's custom field is cf_<key>
    assert "cf_renewal" in exc.value.fields["trigger.field"] and "created_at" in exc.value.fields["trigger.field"]
