"""Changing or deleting a custom field whose values records hold (built-in and custom types alike)."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, ValidationFailed
from crm.customization.models import CustomField
from crm.customization.services import custom_field_create, custom_field_delete, custom_field_update
from crm.records.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(boss):
    data = {"object_type": "contact", "key": "code", "label": "Code", "field_type": "text"}
    return custom_field_create(actor=boss, data=data)


def contacts_with(*codes):
    return [ContactFactory(custom_fields={} if c is None else {"code": c}) for c in codes]


def test_a_type_change_is_refused_while_records_hold_values_and_previews_what_would_not_convert(boss, code):
    contacts_with("12", "abc", "7", "abc", None, "")
    logged = ObjectChange.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(code, actor=boss, data={"field_type": "integer"})
    error = exc.value
    assert error.preview == {"records_with_values": 4, "not_convertible": ["abc"]}
    assert error.fields["field_type"] == (
        "4 records hold values of this field, so its type cannot change. "
        "Values that would not convert to integer: 'abc'."
    )
    assert error.as_dict()["error"]["preview"]["records_with_values"] == 4
    code.refresh_from_db()
    assert code.field_type == "text" and ObjectChange.objects.count() == logged  # nothing written


def test_the_preview_lists_at_most_twenty_values(boss, code):
    contacts_with(*(f"v{i}" for i in range(25)))
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(code, actor=boss, data={"field_type": "integer"})
    assert exc.value.preview["records_with_values"] == 25 and len(exc.value.preview["not_convertible"]) == 20


def test_a_type_change_with_no_values_held_is_made(boss, code):
    contacts_with(None, "")
    changed = custom_field_update(code, actor=boss, data={"field_type": "integer"})
    assert changed.field_type == "integer"
    assert ObjectChange.objects.filter(object_type="custom_field", action="update").get().changes == {
        "field_type": ["text", "integer"]
    }


def test_the_key_of_a_field_holding_values_cannot_change(boss, code):
    contacts_with("12")
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(code, actor=boss, data={"key": "code2"})
    assert exc.value.fields == {"key": "1 records hold values of this field; its key cannot change."}
    assert CustomField.objects.get(pk=code.pk).key == "code"


def test_deleting_a_field_holding_data_needs_confirmation(boss, code):
    holder, empty = contacts_with("A-1", None)
    with pytest.raises(Conflict) as exc:
        custom_field_delete(code, actor=boss)
    assert exc.value.code == "confirm_required" and exc.value.status == 409
    assert "1 records hold values" in exc.value.message
    assert CustomField.objects.filter(pk=code.pk).exists()
    assert Contact.objects.get(pk=holder.pk).custom_fields == {"code": "A-1"}


def test_a_confirmed_delete_removes_the_values_and_logs_it(boss, code):
    holder, empty = contacts_with("A-1", None)
    assert custom_field_delete(code, actor=boss, confirm=True) == 1
    assert not CustomField.objects.filter(pk=code.pk).exists()
    holder.refresh_from_db()
    assert holder.custom_fields == {} and holder.version == 2
    entry = ObjectChange.objects.get(object_type="contact", object_id=holder.pk)
    assert (entry.action, entry.user, entry.changes) == ("update", boss, {"custom_fields": [{"code": "A-1"}, {}]})
    deleted = ObjectChange.objects.get(object_type="custom_field", action="delete")
    assert deleted.changes["values_removed_from"] == [1, None] and deleted.changes["key"] == ["code", None]
    assert not ObjectChange.objects.filter(object_type="contact", object_id=empty.pk).exists()


def test_a_field_without_data_is_deleted_without_confirmation(boss, code):
    contacts_with(None)
    assert custom_field_delete(code, actor=boss) == 0
    assert not CustomField.objects.exists()


def test_the_admin_delete_page_is_the_confirmation(boss, code):
    from django.test import Client

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    [holder] = contacts_with("A-1")
    assert client.post(f"/admin/customization/customfield/{code.pk}/delete/", {"post": "yes"}).status_code == 302
    holder.refresh_from_db()
    assert holder.custom_fields == {} and not CustomField.objects.exists()
