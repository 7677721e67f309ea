"""Import of custom object types (admin-defined, crm/objects): the importer comes from the record-type
registry, cells of every field type are read (money with currency, choices, lookups by name or id,
dates), rows are written through the type's services (permissions, validation, unique values, change
log), matched on the name or a unique field, undone; from CSV and XLSX, the CLI, the API and the web
wizard. A built-in type's import still works as before."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from crm.audit.models import ObjectChange
from crm.automation import jobs
from crm.core.errors import BadRequest, PermissionDenied
from crm.customization.services import custom_field_create
from crm.dataio import batches, importing, saved_mappings
from crm.dataio.importers import importable
from crm.dataio.mapping import suggest
from crm.dataio.models import ImportBatch, ImportRow
from crm.objects import services
from crm.objects.models import CustomRecord
from crm.objects.records import record_create
from crm.records.models import Contact
from tests.factories import CompanyFactory, UserFactory
from tests.objects.conftest import ALL, user_with

pytestmark = pytest.mark.django_db

HEADER = "Name,VIN,Price,Colour,Operator,Bought,Extras,Owner\n"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # stored uploads (web wizard, background imports) under the test's folder


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", role="admin")


@pytest.fixture
def vehicle(boss):
    fields = [
        {"key": "vin", "label": "VIN", "field_type": "text", "unique": True},
        {"key": "price", "label": "Price", "field_type": "money"},
        {"key": "colour", "label": "Colour", "field_type": "choice", "choices": ["red", "blue"]},
        {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
        {"key": "bought", "label": "Bought", "field_type": "date"},
        {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["tow bar", "roof rack"]},
    ]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


@pytest.fixture
def clerk(db):
    return user_with("clerk", {"vehicle": ALL, "company": ["view"]}, scope="all")


def run(user, data, **kw):
    binary = io.BytesIO(data.encode() if isinstance(data, str) else data)
    return importing.run(binary, actor=user, object_type="vehicles", **kw)


def rows(batch):
    return {r.number: r for r in ImportRow.objects.filter(batch=batch)}


def values(name):
    return CustomRecord.objects.get(name=name).custom_fields


def test_the_registry_offers_custom_types_and_the_mapping_is_suggested(vehicle):
    assert {"contacts", "companies", "leads", "deals", "activities", "vehicles"} <= set(importable())
    assert "tasks" not in importable()  # a built-in type without an importer
    assert suggest("vehicles", ["Name", "vin", "Colour", "Record owner", "Notes"]) == {
        "Name": "cf_name",
        "vin": "cf_vin",
        "Colour": "cf_colour",
        "Record owner": "owner",
        "Notes": "",
    }
    columns = importing.columns_of(io.BytesIO(HEADER.encode()), "vehicles")
    assert "owner" in columns["targets"] and "cf_price" in columns["targets"]


def test_csv_import_reads_every_field_type_and_writes_through_the_service(clerk, vehicle):
    acme = CompanyFactory(name="Acme Haulage")
    text = (
        HEADER + f'Van,V1,"1,234.50 EUR",Red,Acme Haulage,4 March 2025,"tow bar; Roof rack",clerk@example.com\n'
        f"Truck,V2,$99,blue,{acme.pk},2025-01-31,,\n"
    )
    batch = run(clerk, text)
    assert batch.status == "done" and batch.counts["create"] == 2 and batch.counts["error"] == 0
    assert values("Van") == {
        "name": "Van",
        "vin": "V1",
        "price": {"amount": 1234.5, "currency": "EUR"},
        "colour": "red",
        "operator": acme.pk,
        "bought": "2025-03-04",
        "extras": ["tow bar", "roof rack"],
    }
    truck = CustomRecord.objects.get(name="Truck")
    assert truck.custom_fields["price"] == {"amount": 99.0, "currency": "USD"} and truck.owner == clerk
    assert ObjectChange.objects.filter(object_type="vehicle", action="create").count() == 2  # the service logged


def test_xlsx_import(clerk, vehicle):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "VIN", "Price", "Bought"])
    sheet.append(["Van", "X1", "12 GBP", "2024-12-01"])
    out = io.BytesIO()
    book.save(out)
    batch = run(clerk, out.getvalue())
    assert batch.counts["create"] == 1
    assert values("Van") == {
        "name": "Van",
        "vin": "X1",
        "price": {"amount": 12.0, "currency": "GBP"},
        "bought": "2024-12-01",
    }


def test_bad_cells_are_row_errors_in_the_preview_and_the_error_report(clerk, vehicle):
    text = (
        HEADER + "Van,V1,lots,green,Nobody Ltd,31/31/2025,,\n"  # every cell of this row is wrong
        ",V2,,,,,,\n"  # no name: required
        "Good,V3,10 EUR,red,,,,\n"
    )
    preview = run(clerk, text, dry_run=True)
    assert preview.counts["create"] == 1 and preview.counts["error"] == 2
    assert not CustomRecord.objects.exists()  # a dry run writes nothing
    errors = rows(preview)[2].errors
    assert set(errors) == {"Price", "Colour", "Operator", "Bought"}
    assert "not one of: red, blue" in errors["Colour"] and "No company named 'Nobody Ltd'" in errors["Operator"]
    assert rows(preview)[3].errors == {"name": "This field is required."}

    batch = run(clerk, text)
    assert list(CustomRecord.objects.values_list("name", flat=True)) == ["Good"]  # only the good row
    report = list(batches.error_report(batch))
    assert report[0][:3] == ["line", "action", "problems"] and [r[0] for r in report[1:]] == ["2", "3"]
    assert "Colour" in report[1][2] and report[1][3:5] == ["Van", "V1"]


def test_unique_value_taken_is_a_row_error(clerk, vehicle):
    record_create(actor=clerk, object_type=vehicle, data={"name": "Old", "vin": "V1"})
    batch = run(clerk, "Name,VIN\nNew,V1\nOther,V2\n")
    assert batch.counts["create"] == 1 and batch.counts["error"] == 1
    assert rows(batch)[2].errors == {"vin": "Another vehicle already has 'V1'."}
    assert sorted(CustomRecord.objects.values_list("name", flat=True)) == ["Old", "Other"]


def test_rows_match_on_the_name_update_existing_and_undo(clerk, vehicle):
    old = record_create(actor=clerk, object_type=vehicle, data={"name": "Van", "colour": "red"}).obj
    skipped = run(clerk, "Name,Colour\nVan,blue\n")
    assert skipped.counts["skip"] == 1 and values("Van")["colour"] == "red"
    assert "Vehicle" in rows(skipped)[2].warnings[0]

    batch = run(clerk, "Name,Colour,VIN\nVan,blue,V9\nBus,red,V8\n", update_existing=True)
    assert batch.counts["update"] == 1 and batch.counts["create"] == 1
    assert values("Van") == {"name": "Van", "colour": "blue", "vin": "V9"}
    assert CustomRecord.objects.get(pk=old.pk).version == 2

    done = importing.undo(batch, actor=clerk)
    assert done == {"deleted": 1, "restored": 1, "gone": 0}
    assert list(CustomRecord.objects.values_list("name", flat=True)) == ["Van"]
    assert values("Van") == {"name": "Van", "colour": "red", "vin": None}
    assert ObjectChange.objects.filter(object_type="vehicle", action="delete").count() == 1


def test_rows_match_on_a_unique_field(clerk, vehicle, boss):
    record_create(actor=clerk, object_type=vehicle, data={"name": "Van", "vin": "V1"})
    batch = run(clerk, "Name,VIN\nRenamed van,V1\n", match_on="cf_vin", update_existing=True)
    assert batch.counts["update"] == 1 and values("Renamed van")["vin"] == "V1"
    # A number is matched as the field stores it (42, not "42").
    custom_field_create(
        actor=boss,
        data={
            "object_type": "vehicle",
            "key": "fleet_no",
            "label": "Fleet no",
            "field_type": "integer",
            "unique": True,
        },
    )
    record_create(actor=clerk, object_type=vehicle, data={"name": "Bus", "fleet_no": 1042})
    batch = run(clerk, 'Name,Fleet no\nBig bus,"1,042"\n', match_on="cf_fleet_no", update_existing=True)
    assert batch.counts["update"] == 1 and values("Big bus")["fleet_no"] == 1042


def test_permissions_are_the_roles(clerk, vehicle):
    viewer = user_with("viewer", {"vehicle": ["view"]}, scope="all")
    with pytest.raises(PermissionDenied, match="You may not add vehicles"):
        run(viewer, "Name\nVan\n")
    adder = user_with("adder", {"vehicle": ["view", "add"]}, scope="all")
    with pytest.raises(PermissionDenied, match="You may not change vehicles"):
        run(adder, "Name\nVan\n", update_existing=True)
    batch = run(adder, "Name\nVan\n")
    with pytest.raises(PermissionDenied, match="may not delete vehicles"):
        importing.undo(batch, actor=adder)
    assert not ImportBatch.objects.filter(status="running").exists() and CustomRecord.objects.count() == 1


def test_unknown_and_archived_types_cannot_be_imported(clerk, vehicle, boss):
    with pytest.raises(BadRequest) as caught:
        importing.run(io.BytesIO(b"Name\nx\n"), actor=clerk, object_type="spaceships")
    assert "vehicles" in caught.value.fields["type"] and "contacts" in caught.value.fields["type"]
    batch = run(clerk, "Name\nVan\n")
    services.object_type_archive(vehicle, actor=boss)
    assert "vehicles" not in importable()
    with pytest.raises(BadRequest, match="Vehicles are archived"):
        run(clerk, "Name\nBus\n")
    with pytest.raises(BadRequest, match="Vehicles are archived"):
        importing.undo(batch, actor=clerk)
    assert CustomRecord.objects.get().name == "Van"


def test_saved_mapping_of_a_custom_type(clerk, vehicle):
    saved, created = saved_mappings.save(
        actor=clerk, object_type="vehicles", name="Fleet sheet", columns={"Reg": "cf_vin", "Model": "cf_name"}
    )
    assert created and saved_mappings.listed(actor=clerk).get() == saved


def test_cli_import_of_a_custom_type_and_a_clear_error_for_an_unknown_one(clerk, vehicle, tmp_path):
    path = tmp_path / "fleet.csv"
    path.write_text("Name,VIN,Colour\nVan,V1,red\nCar,V2,pink\n")
    out = io.StringIO()
    call_command("import", "vehicles", str(path), "--user", "clerk", stdout=out, stderr=io.StringIO())
    assert "1 to create" in out.getvalue() and "1 with errors" in out.getvalue()
    assert list(CustomRecord.objects.values_list("name", flat=True)) == ["Van"]
    batch = ImportBatch.objects.get()
    out = io.StringIO()
    call_command("import", "undo", str(batch.pk), "--user", "clerk", stdout=out)
    assert "1 records removed" in out.getvalue() and not CustomRecord.objects.exists()
    with pytest.raises(CommandError, match=r"Cannot import 'spaceships': give one of .*vehicles"):
        call_command("import", "spaceships", str(path), "--user", "clerk")


def test_api_import_of_a_custom_type(api, clerk, vehicle):
    upload = SimpleUploadedFile("fleet.csv", b"Name,VIN\nVan,V1\n", "text/csv")
    response = api(clerk).client.post("/api/v1/import/vehicles", {"file": upload}, headers=api(clerk).headers)
    assert response.status_code in (200, 201), response.content
    assert CustomRecord.objects.get().name == "Van"


def test_web_wizard_end_to_end(clerk, vehicle):
    client = Client()
    client.force_login(clerk)
    assert "Import vehicles" in client.get("/imports/").content.decode()
    assert 'href="/imports/vehicles/new/"' in client.get("/vehicles/").content.decode()  # the list's Import button
    page = client.get("/imports/vehicles/new/")  # Cancel leads back to the type's list
    assert page.status_code == 200 and 'href="/vehicles/">Cancel' in page.content.decode()
    text = "Name,VIN,Colour\nVan,V1,red\nCar,V2,pink\n"
    r = client.post("/imports/vehicles/new/", {"file": SimpleUploadedFile("fleet.csv", text.encode(), "text/csv")})
    assert r.status_code == 302, r.content.decode()[:2000]
    token = re.search(r"/imports/wizard/([^/]+)/map/", r["Location"]).group(1)
    page = client.get(f"/imports/wizard/{token}/map/").content.decode()
    assert '<option value="cf_vin">VIN</option>' in page and "(custom field)" not in page
    form = {"map_0": "cf_name", "map_1": "cf_vin", "map_2": "cf_colour"}
    r = client.post(f"/imports/wizard/{token}/map/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    jobs.run_due()  # the dry run
    preview = client.get(f"/imports/wizard/{token}/preview/").content.decode()
    assert re.search(r'data-count="create">1<', preview) and re.search(r'data-count="error">1<', preview)
    assert not CustomRecord.objects.exists()
    r = client.post(f"/imports/wizard/{token}/start/")
    batch = ImportBatch.objects.exclude(status="dry_run").get()
    assert r["Location"] == f"/imports/{batch.pk}/"
    jobs.run_due()
    batch.refresh_from_db()
    assert batch.status == "done" and list(CustomRecord.objects.values_list("name", flat=True)) == ["Van"]
    r = client.post(f"/imports/{batch.pk}/undo/", {"confirm": "yes"}, follow=True)
    assert "Import undone: 1 removed, 0 restored." in r.content.decode() and not CustomRecord.objects.exists()


def test_web_wizard_refuses_a_user_without_add(vehicle):
    viewer = user_with("viewer", {"vehicle": ["view"]}, scope="all")
    client = Client()
    client.force_login(viewer)
    assert client.get("/imports/vehicles/new/").status_code == 403
    assert client.get("/imports/spaceships/new/").status_code == 404


def test_a_built_in_import_still_works(boss, vehicle):
    batch = importing.run(io.BytesIO(b"First name,Email\nAnn,ann@example.com\n"), actor=boss, object_type="contacts")
    assert batch.counts["create"] == 1 and Contact.objects.get().first_name == "Ann"
