"""Custom field values: each type's coercion, required/default/choices rules, and no half-written records."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField
from crm.customization.validation import clean_custom_fields
from crm.records.models import Contact
from crm.records.services.contacts import contact_create, contact_update
from crm.search.query import search

pytestmark = pytest.mark.django_db


def field(key, field_type, **kw):
    return CustomField.objects.create(object_type="contact", key=key, label=key.title(), field_type=field_type, **kw)


def errors_of(values, *, current=None) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        clean_custom_fields("contact", values, current=current)
    return exc.value.fields


GOOD = [
    ("text", {}, "hello", "hello"),
    ("long_text", {}, "x" * 5000, "x" * 5000),
    ("integer", {}, 42, 42),
    ("integer", {}, "-7", -7),
    ("decimal", {}, "12.50", 12.5),
    ("decimal", {}, 3, 3.0),
    ("boolean", {}, True, True),
    ("boolean", {}, "no", False),
    ("date", {}, "2024-02-29", "2024-02-29"),
    ("datetime", {}, "2024-03-01T10:00:00+02:00", "2024-03-01T08:00:00+00:00"),
    ("choice", {"choices": ["gold", "silver"]}, "gold", "gold"),
    ("multi_choice", {"choices": ["a", "b", "c"]}, ["c", "a", "c"], ["c", "a"]),
    ("url", {}, "https://example.com/x", "https://example.com/x"),
    ("email", {}, "Ann@Example.COM", "ann@example.com"),
]


@pytest.mark.parametrize("field_type,extra,raw,stored", GOOD, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOOD)])
def test_each_type_accepts_and_coerces_good_values(field_type, extra, raw, stored):
    field("f", field_type, **extra)
    assert clean_custom_fields("contact", {"f": raw}) == {"f": stored}


BAD = [
    ("text", {}, 5),
    ("text", {}, "x" * 256),
    ("long_text", {}, "x" * 10_001),
    ("integer", {}, "4.5"),
    ("integer", {}, True),
    ("integer", {}, "abc"),
    ("integer", {}, [1]),
    ("decimal", {}, "abc"),
    ("decimal", {}, "NaN"),
    ("decimal", {}, "Infinity"),
    ("decimal", {}, "1e400"),  # beyond a float: would be stored as inf
    ("decimal", {}, False),
    ("boolean", {}, "maybe"),
    ("boolean", {}, 1),
    ("date", {}, "2024-02-30"),
    ("date", {}, "yesterday"),
    ("date", {}, 20240101),
    ("datetime", {}, "2024-03-01T10:00:00"),  # no time zone
    ("datetime", {}, "not a time"),
    ("choice", {"choices": ["gold", "silver"]}, "bronze"),
    ("multi_choice", {"choices": ["a", "b"]}, ["a", "z"]),
    ("multi_choice", {"choices": ["a", "b"]}, "a"),
    ("url", {}, "ftp://example.com"),
    ("url", {}, "not a url"),
    ("email", {}, "not-an-email"),
    ("email", {}, 12),
    ("user", {}, 999_999),
    ("user", {}, "1"),
]


@pytest.mark.parametrize("field_type,extra,raw", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_each_type_rejects_bad_values_with_a_message_per_field(field_type, extra, raw):
    field("f", field_type, **extra)
    errors = errors_of({"f": raw})
    assert list(errors) == ["custom_fields.f"]
    message = errors["custom_fields.f"]
    # A sentence for a person, not a Python repr of an exception class.
    assert message.startswith(("Must", "At most", "No such", "Not a")), message


def test_user_field_accepts_an_active_user(rep_a):
    field("account_manager", "user")
    assert clean_custom_fields("contact", {"account_manager": rep_a.pk}) == {"account_manager": rep_a.pk}
    rep_a.is_active = False
    rep_a.save()
    assert "custom_fields.account_manager" in errors_of({"account_manager": rep_a.pk})


def test_several_bad_values_are_all_reported_at_once():
    field("size", "integer")
    field("tier", "choice", choices=["a", "b"])
    errors = errors_of({"size": "big", "tier": "z", "nope": 1})
    assert set(errors) == {"custom_fields.size", "custom_fields.tier", "custom_fields.nope"}


def test_unknown_key_is_rejected():
    field("tier", "text")
    assert errors_of({"tire": "x"}) == {"custom_fields.tire": "Unknown custom field."}


def test_a_field_of_another_record_type_is_unknown_here():
    CustomField.objects.create(object_type="deal", key="tier", label="Tier", field_type="text")
    assert "custom_fields.tier" in errors_of({"tier": "x"})


def test_values_must_be_an_object():
    with pytest.raises(ValidationFailed) as exc:
        clean_custom_fields("contact", ["a"])
    assert "custom_fields" in exc.value.fields


def test_required_field_missing_or_empty_is_reported():
    field("tier", "text", required=True)
    field("tags2", "multi_choice", required=True, choices=["a"])
    assert set(errors_of({})) == {"custom_fields.tier", "custom_fields.tags2"}
    assert set(errors_of({"tier": "", "tags2": []})) == {"custom_fields.tier", "custom_fields.tags2"}
    assert clean_custom_fields("contact", {"tier": "x", "tags2": ["a"]}) == {"tier": "x", "tags2": ["a"]}


def test_required_field_cannot_be_cleared_on_update():
    field("tier", "text", required=True)
    assert "custom_fields.tier" in errors_of({"tier": None}, current={"tier": "x"})


def test_default_is_applied_on_create_only():
    field("tier", "choice", choices=["gold", "silver"], default="silver")
    assert clean_custom_fields("contact", {}) == {"tier": "silver"}
    assert clean_custom_fields("contact", {"tier": "gold"}) == {"tier": "gold"}
    # An update of a record that never had the value does not invent it.
    assert clean_custom_fields("contact", {}, current={}) == {}


def test_default_satisfies_a_required_field_on_create():
    field("tier", "text", required=True, default="basic")
    assert clean_custom_fields("contact", None) == {"tier": "basic"}


def test_update_merges_with_existing_values():
    field("tier", "text")
    field("size", "integer")
    result = clean_custom_fields("contact", {"size": "12"}, current={"tier": "gold", "size": 3})
    assert result == {"tier": "gold", "size": 12}


def test_values_of_deleted_definitions_are_dropped_on_update():
    field("tier", "text")
    assert clean_custom_fields("contact", {"tier": "x"}, current={"gone": 1}) == {"tier": "x"}


def test_service_create_stores_coerced_values(rep_a):
    field("size", "integer", default=1)
    field("renewal", "date")
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "custom_fields": {"renewal": "2025-01-31"}}).obj
    contact.refresh_from_db()
    assert contact.custom_fields == {"size": 1, "renewal": "2025-01-31"}


def test_service_update_merges_and_keeps_others(rep_a):
    field("size", "integer")
    field("tier", "text")
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "custom_fields": {"size": 5, "tier": "a"}}).obj
    contact_update(contact, actor=rep_a, data={"custom_fields": {"tier": "b"}})
    contact.refresh_from_db()
    assert contact.custom_fields == {"size": 5, "tier": "b"}
    # An update that does not mention custom fields leaves them alone.
    contact_update(contact, actor=rep_a, data={"title": "CTO"})
    contact.refresh_from_db()
    assert contact.custom_fields == {"size": 5, "tier": "b"}


def test_service_create_with_a_bad_custom_value_writes_nothing(rep_a):
    field("size", "integer")
    with pytest.raises(ValidationFailed) as exc:
        contact_create(
            actor=rep_a,
            data={"first_name": "Zed", "email": "zed@example.com", "tags": ["vip"], "custom_fields": {"size": "x"}},
        )
    assert "custom_fields.size" in exc.value.fields
    assert not Contact.objects.exists()
    assert not ObjectChange.objects.exists()
    assert not any(search(rep_a, "zed").values())


def test_service_update_with_a_bad_custom_value_changes_nothing(rep_a):
    field("size", "integer")
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "custom_fields": {"size": 1}}).obj
    with pytest.raises(ValidationFailed):
        contact_update(contact, actor=rep_a, data={"first_name": "Bob", "custom_fields": {"size": "x"}})
    contact.refresh_from_db()
    assert (contact.first_name, contact.version, contact.custom_fields) == ("Ann", 1, {"size": 1})
