"""The field types custom objects brought (money, phone, lookup) and the unique/searchable flags:
values, filters, and the definition rules the service enforces."""

import pytest

from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField
from crm.customization.services import custom_field_create, custom_field_update
from crm.customization.validation import clean_custom_fields
from tests.factories import CompanyFactory, ContactFactory
from tests.objects.conftest import make_type

pytestmark = pytest.mark.django_db


def define(boss, object_type, key, field_type, **kw) -> CustomField:
    data = {"object_type": object_type, "key": key, "label": key.title(), "field_type": field_type, **kw}
    return custom_field_create(actor=boss, data=data)


def refusal(boss, **data) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        define(boss, **data)
    assert not CustomField.objects.filter(key=data["key"]).exists()
    return exc.value.fields


def test_money_is_an_amount_with_its_currency(boss):
    define(boss, "contact", "budget", "money")
    stored = clean_custom_fields("contact", {"budget": {"amount": "12.50", "currency": "eur"}})
    assert stored == {"budget": {"amount": 12.5, "currency": "EUR"}}


def test_amounts_come_back_exactly_as_written(boss):
    """Kept as JSON numbers: a value is refused rather than changed by the float."""
    define(boss, "contact", "budget", "money")
    define(boss, "contact", "ratio", "decimal")
    for amount in ("0.1", "999999999999.99", "-7.05"):
        stored = clean_custom_fields("contact", {"budget": {"amount": amount, "currency": "EUR"}, "ratio": amount})
        assert repr(stored["budget"]["amount"]) == amount and repr(stored["ratio"]) == amount
    with pytest.raises(ValidationFailed) as exc:
        clean_custom_fields("contact", {"ratio": "0.12345678901234567"})
    assert "15 significant digits" in exc.value.fields["custom_fields.ratio"]


@pytest.mark.parametrize(
    "raw,message",
    [
        (12, "Must be {"),
        ({"amount": 1}, "Must be {"),
        ({"amount": 1, "currency": "EUR", "rate": 2}, "Must be {"),
        ({"amount": "lots", "currency": "EUR"}, "The amount: Must be a number."),
        ({"amount": "Infinity", "currency": "EUR"}, "finite"),
        ({"amount": 5, "currency": "EURO"}, "three-letter code"),
        ({"amount": 5, "currency": 978}, "three-letter code"),
        ({"amount": "12345678901234567.89", "currency": "EUR"}, "at most 15 significant digits"),
    ],
)
def test_bad_money_names_the_field(boss, raw, message):
    define(boss, "contact", "budget", "money")
    with pytest.raises(ValidationFailed) as exc:
        clean_custom_fields("contact", {"budget": raw})
    assert message in exc.value.fields["custom_fields.budget"]


def test_money_filters_compare_the_amount(boss, api):
    define(boss, "contact", "budget", "money")
    amounts = {"ann": ("9.5", "EUR"), "bob": ("10", "USD"), "cy": ("250", "EUR")}
    for name, (amount, currency) in amounts.items():
        values = clean_custom_fields("contact", {"budget": {"amount": amount, "currency": currency}})
        ContactFactory(name=name, custom_fields=values)
    ContactFactory(name="none")
    client = api(boss)

    def names(**params):
        response = client.get("/contacts", params)
        assert response.status_code == 200, response.json()
        return {c["name"] for c in response.json()["items"]}

    assert names(cf_budget__gte="10") == {"bob", "cy"}
    assert names(cf_budget__lt="10") == {"ann"}
    assert names(cf_budget="250") == {"cy"}
    assert names(cf_budget__isnull="true") == {"none"}
    assert client.get("/contacts", {"cf_budget__gt": "ten"}).json()["error"]["fields"] == {
        "cf_budget__gt": "Not a valid decimal value: 'ten'."
    }


def test_phone_is_stored_in_international_form(boss):
    define(boss, "contact", "mobile", "phone")
    assert clean_custom_fields("contact", {"mobile": "+44 20 7946 0958"}) == {"mobile": "+442079460958"}
    for bad in ("not a phone", 5551234):
        with pytest.raises(ValidationFailed) as exc:
            clean_custom_fields("contact", {"mobile": bad})
        assert "custom_fields.mobile" in exc.value.fields


def test_a_lookup_names_a_record_the_actor_sees(boss, rep_a, rep_b):
    make_type("vehicle")
    define(boss, "vehicle", "operator", "lookup", target="company")
    define(boss, "vehicle", "driver", "lookup", target="user")
    visible, hidden = CompanyFactory(owner=rep_a), CompanyFactory(owner=rep_b)

    values = {"operator": visible.pk, "driver": rep_b.pk}
    assert clean_custom_fields("vehicle", values, actor=rep_a, prefix="") == values
    for raw, message in (
        (hidden.pk, f"No company with id {hidden.pk}."),
        (10**9, "No company with id"),
        ("1", "Must be the id"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            clean_custom_fields("vehicle", {"operator": raw}, actor=rep_a, prefix="")
        assert exc.value.fields["operator"].startswith(message)
    rep_b.is_active = False
    rep_b.save()
    with pytest.raises(ValidationFailed) as exc:
        clean_custom_fields("vehicle", {"driver": rep_b.pk}, actor=rep_a, prefix="")
    assert exc.value.fields == {"driver": f"No user with id {rep_b.pk}."}


def test_a_lookup_may_target_a_custom_type_and_respects_its_scope(boss, clerk, other_clerk):
    from crm.objects.models import CustomRecord

    vehicle = make_type("vehicle")
    make_type("trip")
    define(boss, "trip", "vehicle", "lookup", target="vehicle")
    mine = CustomRecord.objects.create(type=vehicle, name="Mine", owner=clerk)
    theirs = CustomRecord.objects.create(type=vehicle, name="Theirs", owner=other_clerk)
    assert clean_custom_fields("trip", {"vehicle": mine.pk}, actor=clerk, prefix="") == {"vehicle": mine.pk}
    with pytest.raises(ValidationFailed):
        clean_custom_fields("trip", {"vehicle": theirs.pk}, actor=clerk, prefix="")


def test_definition_rules(boss):
    make_type("vehicle")
    assert "object_type" in refusal(boss, object_type="spaceship", key="a", field_type="text")
    assert "target" in refusal(boss, object_type="vehicle", key="a", field_type="lookup")
    assert "target" in refusal(boss, object_type="vehicle", key="a", field_type="lookup", target="pipeline")
    assert refusal(boss, object_type="contact", key="a", field_type="lookup", target="company") == {
        "field_type": "Lookup fields are available on custom object types only."
    }
    assert refusal(boss, object_type="contact", key="a", field_type="text", unique=True) == {
        "unique": "Unique fields are available on custom object types only."
    }
    assert (
        "cannot be unique"
        in refusal(boss, object_type="vehicle", key="a", field_type="multi_choice", choices=["x"], unique=True)[
            "unique"
        ]
    )
    assert "default" in refusal(boss, object_type="vehicle", key="a", field_type="lookup", target="user", default=1)

    field = define(boss, "vehicle", "vin", "text", unique=True, searchable=True, target="company")
    assert (field.unique, field.searchable, field.target) == (
        True,
        True,
        "",
    )  # a target only means something to a lookup
    updated = custom_field_update(field, actor=boss, data={"label": "VIN"})
    assert updated.label == "VIN" and updated.unique


def test_only_admins_define_fields(rep_a):
    from crm.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        define(rep_a, "contact", "x", "text")
