"""Settings → Objects pages: an admin defines custom object types and their fields in the browser;
every write goes through the services, refusals come back on the form, data goes only on confirmation."""

import pytest
from django.conf import settings as conf
from django.test import Client

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.objects import records
from crm.objects.models import CustomRecord, ObjectType
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/settings/objects/"
VEHICLE = {"key": "vehicle", "slug": "vehicles", "singular": "Vehicle", "plural": "Vehicles", "colour": "#1E40AF"}


@pytest.fixture
def browser(boss):
    """A logged-in client that sends the CSRF token like a browser (CSRF checks on)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    return client


def post(client, path, data=None):
    """Reads the form page first for its CSRF cookie, then posts with the token."""
    client.get(BASE)
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": client.cookies[conf.CSRF_COOKIE_NAME].value})


def field_data(**kw):
    return {"key": "", "label": "", "field_type": "text", "choices": "", "target": "", "help_text": ""} | kw


@pytest.fixture
def vehicle(browser):
    assert post(browser, f"{BASE}new/", VEHICLE | {"name_field": "name"}).status_code == 302
    return ObjectType.objects.get(key="vehicle")


def add_field(browser, **kw):
    return post(browser, f"{BASE}vehicle/fields/new/", field_data(**kw))


def make_record(boss, vehicle, **values):
    return records.record_create(actor=boss, object_type=vehicle, data={"name": "Van", **values}).obj


def test_an_admin_creates_a_type_with_money_choice_and_lookup_fields_and_edits_it(browser, vehicle):
    assert (vehicle.singular, vehicle.colour, vehicle.name_field) == ("Vehicle", "#1e40af", "name")
    assert add_field(browser, key="price", label="Price", field_type="money", required="on").status_code == 302
    fuel = add_field(browser, key="fuel", label="Fuel", field_type="choice", choices="petrol\n diesel \n\nelectric")
    assert fuel.status_code == 302
    owner = add_field(browser, key="owner_company", label="Owner", field_type="lookup", target="company")
    assert owner.status_code == 302
    made = {f.key: f for f in CustomField.objects.filter(object_type="vehicle")}
    assert made["price"].field_type == "money" and made["price"].required
    assert made["fuel"].choices == ["petrol", "diesel", "electric"]
    assert (made["owner_company"].field_type, made["owner_company"].target) == ("lookup", "company")
    assert [f.key for f in CustomField.objects.filter(object_type="vehicle").order_by("order")] == [
        "name",
        "price",
        "fuel",
        "owner_company",
    ]

    page = browser.get(f"{BASE}vehicle/")
    assert page.status_code == 200
    assert b"Price" in page.content and b"petrol, diesel, electric" in page.content and b"company" in page.content
    edit = post(
        browser, f"{BASE}vehicle/", {"singular": "Car", "plural": "Cars", "colour": "#ff0000", "name_field": "name"}
    )
    assert edit.status_code == 302
    vehicle.refresh_from_db()
    assert (vehicle.singular, vehicle.plural, vehicle.colour, vehicle.key, vehicle.slug) == (
        "Car",
        "Cars",
        "#ff0000",
        "vehicle",
        "vehicles",
    )
    listing = browser.get(BASE)
    assert b"Cars" in listing.content and b"New type" in listing.content
    assert ObjectChange.objects.filter(object_type="object_type", action="update").exists()  # logged by the service


def test_fields_move_up_and_down(browser, vehicle):
    add_field(browser, key="plate", label="Plate")
    plate = CustomField.objects.get(object_type="vehicle", key="plate")
    assert post(browser, f"{BASE}vehicle/fields/{plate.pk}/move/", {"direction": "up"}).status_code == 302
    assert list(CustomField.objects.filter(object_type="vehicle").order_by("order").values_list("key", flat=True)) == [
        "plate",
        "name",
    ]


def test_reserved_and_duplicate_names_are_errors_on_the_form(browser, vehicle):
    reserved = post(browser, f"{BASE}new/", VEHICLE | {"key": "settings", "slug": "imports", "name_field": "name"})
    assert reserved.status_code == 422
    form = reserved.context["form"]
    assert "reserved" in form.errors["key"][0] and "reserved" in form.errors["slug"][0]
    duplicate = post(browser, f"{BASE}new/", VEHICLE | {"name_field": "name"})
    assert duplicate.status_code == 422 and "key" in duplicate.context["form"].errors
    assert ObjectType.objects.count() == 1

    add_field(browser, key="plate", label="Plate")
    again = add_field(browser, key="plate", label="Plate again")
    assert again.status_code == 422 and "key" in again.context["form"].errors
    attribute = add_field(browser, key="owner", label="Owner")
    assert "record attribute" in attribute.context["form"].errors["key"][0]
    needs_choices = add_field(browser, key="fuel", label="Fuel", field_type="choice")
    assert "choice" in needs_choices.context["form"].errors["choices"][0]
    bad_key = add_field(browser, key="x y", label="<script>alert(1)</script>")
    assert bad_key.status_code == 422 and "key" in bad_key.context["form"].errors
    assert b"<script>alert(1)" not in bad_key.content and b"&lt;script&gt;alert(1)" in bad_key.content
    assert CustomField.objects.filter(object_type="vehicle").count() == 2  # name and plate
    assert "field_type" not in again.context["form"].errors  # nothing else was wrong


def test_user_text_is_escaped(browser, vehicle, boss):
    post(
        browser,
        f"{BASE}vehicle/",
        {"singular": "<b>Car</b>", "plural": "<i>Cars</i>", "colour": "#ff0000", "name_field": "name"},
    )
    listing = browser.get(BASE).content.decode()
    assert "<i>Cars</i>" not in listing and "&lt;i&gt;Cars&lt;/i&gt;" in listing


def test_a_refused_type_change_shows_the_preview_of_values_that_would_not_convert(browser, vehicle, boss):
    add_field(browser, key="seats", label="Seats")
    field = CustomField.objects.get(object_type="vehicle", key="seats")
    for seats in ("4", "many", "2", "many"):
        make_record(boss, vehicle, seats=seats)
    page = post(
        browser, f"{BASE}vehicle/fields/{field.pk}/", field_data(key="seats", label="Seats", field_type="integer")
    )
    assert page.status_code == 422
    assert page.context["preview"] == {"records_with_values": 4, "not_convertible": ["many"]}
    assert "cannot change" in page.context["form"].errors["field_type"][0]
    assert b"Values that would not convert" in page.content and b"<code>many</code>" in page.content
    field.refresh_from_db()
    assert field.field_type == "text"


def test_a_field_holding_data_is_deleted_only_after_confirming(browser, vehicle, boss):
    add_field(browser, key="colour", label="Colour")
    field = CustomField.objects.get(object_type="vehicle", key="colour")
    van = make_record(boss, vehicle, colour="red")
    make_record(boss, vehicle)
    url = f"{BASE}vehicle/fields/{field.pk}/delete/"
    ask = browser.get(url)
    assert ask.context["count"] == 1 and b"1 records holding a value of it" in ask.content
    refused = post(browser, url)
    assert refused.status_code == 409 and CustomField.objects.filter(pk=field.pk).exists()
    assert post(browser, url, {"confirm": "yes"}).status_code == 302
    assert not CustomField.objects.filter(pk=field.pk).exists()
    van.refresh_from_db()
    assert "colour" not in van.custom_fields
    logged = ObjectChange.objects.get(object_type="custom_field", object_id=field.pk, action="delete")
    assert logged.changes["values_removed_from"] == [1, None]


def test_an_empty_field_is_deleted_without_a_confirmation_flag_but_the_name_field_is_kept(browser, vehicle):
    add_field(browser, key="plate", label="Plate")
    plate = CustomField.objects.get(object_type="vehicle", key="plate")
    assert post(browser, f"{BASE}vehicle/fields/{plate.pk}/delete/").status_code == 302
    name = CustomField.objects.get(object_type="vehicle", key="name")
    kept = post(browser, f"{BASE}vehicle/fields/{name.pk}/delete/", {"confirm": "yes"})
    assert kept.status_code == 422 and b"name field" in kept.content
    assert CustomField.objects.filter(pk=name.pk).exists()


def test_archiving_keeps_the_records_and_restoring_brings_the_type_back(browser, vehicle, boss):
    make_record(boss, vehicle)
    assert post(browser, f"{BASE}vehicle/archive/", {"archived": "1"}).status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.archived and CustomRecord.objects.filter(type=vehicle).count() == 1
    assert b"archived" in browser.get(BASE).content
    post(browser, f"{BASE}vehicle/archive/", {"archived": "0"})
    vehicle.refresh_from_db()
    assert not vehicle.archived


def test_a_type_with_records_is_deleted_only_after_confirming(browser, vehicle, boss):
    make_record(boss, vehicle)
    make_record(boss, vehicle, name="Truck")
    url = f"{BASE}vehicle/delete/"
    ask = browser.get(url)
    assert ask.context["count"] == 2 and b"2 records" in ask.content
    refused = post(browser, url)
    assert refused.status_code == 409 and ObjectType.objects.filter(key="vehicle").exists()
    assert CustomRecord.objects.count() == 2
    assert post(browser, url, {"confirm": "yes"}).status_code == 302
    assert not ObjectType.objects.exists() and not CustomRecord.objects.exists()
    logged = ObjectChange.objects.get(object_type="object_type", object_id=vehicle.pk, action="delete")
    assert logged.changes["records_deleted"] == [2, None]


def test_a_post_without_the_csrf_token_is_refused(browser, vehicle):
    assert browser.post(f"{BASE}vehicle/archive/", {"archived": "1"}).status_code == 403
    vehicle.refresh_from_db()
    assert not vehicle.archived


def test_admins_see_the_menu_link_others_get_403_and_no_link(browser, vehicle):
    assert "Settings → Objects" in browser.get("/").content.decode()
    rep = UserFactory(username="rep", role="sales-rep")
    client = Client()
    client.force_login(rep)
    assert "Settings → Objects" not in client.get("/").content.decode()
    field = CustomField.objects.get(object_type="vehicle", key="name")
    for path in (
        "",
        "new/",
        "vehicle/",
        "vehicle/delete/",
        "vehicle/fields/new/",
        f"vehicle/fields/{field.pk}/delete/",
    ):
        assert client.get(BASE + path).status_code == 403, path
    assert client.post(f"{BASE}vehicle/delete/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"{BASE}new/", VEHICLE | {"key": "boat", "slug": "boats"}).status_code == 403
    assert ObjectType.objects.count() == 1
    assert Client().get(BASE).status_code == 302  # anonymous: to the login page


def test_unknown_types_and_fields_are_404(browser, vehicle):
    assert browser.get(f"{BASE}nothing/").status_code == 404
    assert browser.get(f"{BASE}vehicle/fields/999999/").status_code == 404
    other = CustomField.objects.create(object_type="contact", key="code", label="Code", field_type="text")
    assert browser.get(f"{BASE}vehicle/fields/{other.pk}/").status_code == 404


def test_a_lookup_to_another_custom_type_and_a_type_looked_up_is_not_deleted(browser, vehicle):
    garage = VEHICLE | {"key": "garage", "slug": "garages", "singular": "Garage", "plural": "Garages"}
    assert post(browser, f"{BASE}new/", garage | {"name_field": "title"}).status_code == 302
    assert CustomField.objects.get(object_type="garage", key="title").required  # the name field made for it
    page = browser.get(f"{BASE}garage/fields/new/")
    assert b"objects/field_form.js" in page.content  # shows the target only for lookups
    assert ("vehicle", "Vehicles") in page.context["form"].fields["target"].choices
    fields = field_data(key="parked", label="Parked", field_type="lookup", target="vehicle")
    assert post(browser, f"{BASE}garage/fields/new/", fields).status_code == 302
    refused = post(browser, f"{BASE}vehicle/delete/", {"confirm": "yes"})
    assert refused.status_code == 422 and b"Lookup fields point at Vehicles: garage.parked" in refused.content
    assert ObjectType.objects.filter(key="vehicle").exists()


def test_a_text_field_is_encrypted_from_the_form_and_other_types_and_the_name_field_are_refused(
    browser, vehicle, boss, settings
):
    from crm.core import crypto
    from crm.customization.secrets import is_envelope

    settings.ENCRYPTION_KEYS, settings.ENCRYPTION_LOOKUP_KEY = [crypto.new_key()], "lookup-key-for-tests"
    form = browser.get(f"{BASE}vehicle/fields/new/")
    assert b'name="encrypted"' in form.content and b'data-types="text long_text email phone url"' in form.content
    assert add_field(browser, key="vin", label="VIN", encrypted="on").status_code == 302
    vin = CustomField.objects.get(object_type="vehicle", key="vin")
    assert vin.encrypted
    van = make_record(boss, vehicle, vin="WVW-SECRET-1")
    assert is_envelope(CustomRecord.objects.get(pk=van.pk).custom_fields["vin"])  # stored as ciphertext
    edit = browser.get(f"{BASE}vehicle/fields/{vin.pk}/")
    assert edit.context["form"]["encrypted"].value() is True  # the edit form shows it checked

    refused = add_field(browser, key="seats", label="Seats", field_type="integer", encrypted="on")
    assert refused.status_code == 422 and "cannot be encrypted" in refused.context["form"].errors["encrypted"][0]
    name = CustomField.objects.get(object_type="vehicle", key="name")
    kept = post(browser, f"{BASE}vehicle/fields/{name.pk}/", field_data(key="name", label="Name", encrypted="on"))
    assert kept.status_code == 422 and "cannot be encrypted" in kept.context["form"].errors["encrypted"][0]
    name.refresh_from_db()
    assert not name.encrypted

    # turned off from the form: the stored values are decrypted in place
    plain = post(browser, f"{BASE}vehicle/fields/{vin.pk}/", field_data(key="vin", label="VIN"))
    assert plain.status_code == 302
    assert CustomRecord.objects.get(pk=van.pk).custom_fields["vin"] == "WVW-SECRET-1"
