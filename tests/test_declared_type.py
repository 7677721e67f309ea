"""A record type declared only in a test app (tests/declared_app: one model, one declaration, one
migration) gets what every type gets from the registry: the API and its OpenAPI, search, export, the
change log, automation triggers and permissions. No product code names it."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm.audit.models import ObjectChange
from crm.automation import rules
from crm.automation.models import RuleRun, RunStatus
from crm.core import recordtypes
from crm.dataio import importing, mapping
from crm.dataio.models import ImportBatch, ImportRow
from tests.automation.conftest import IMMEDIATE
from tests.conftest import Api
from tests.declared_app.models import Gadget
from tests.objects.conftest import user_with

pytestmark = pytest.mark.django_db
ALL = ["view", "add", "change", "delete", "export"]


@pytest.fixture
def tinker(db):
    return user_with("tinker", {"gadget": ALL})


@pytest.fixture
def other_tinker(db):
    return user_with("other_tinker", {"gadget": ALL})


def create(user, **data):
    r = Api(user).post("/gadgets", data)
    assert r.status_code == 201, r.content
    return r.json()


def test_the_type_is_declared_by_the_test_app_alone():
    rt = recordtypes.by_slug("gadgets")
    assert rt is not None and recordtypes.declared("gadget") and rt.model is Gadget
    assert "gadget" in recordtypes.known_types()


def test_api_crud_with_version_check_filters_and_sorts(tinker):
    api = Api(tinker)
    made = create(tinker, name="Sprocket", serial="S-1", price="9.50")
    create(tinker, name="Widget", price="120")
    assert made["owner_id"] == tinker.pk and made["price"] == "9.50"
    r = api.get("/gadgets", {"price__gt": "100"})
    assert [g["name"] for g in r.json()["items"]] == ["Widget"]
    assert [g["name"] for g in api.get("/gadgets", {"sort": "name"}).json()["items"]] == ["Sprocket", "Widget"]
    assert api.get("/gadgets", {"colour": "red"}).status_code == 400  # not a declared field
    r = api.patch(f"/gadgets/{made['id']}", {"serial": "S-2", "version": made["version"]})
    assert r.status_code == 200 and r.json()["serial"] == "S-2"
    assert api.patch(f"/gadgets/{made['id']}", {"serial": "S-3", "version": made["version"]}).status_code == 409
    r = api.post("/gadgets", {"name": ""})
    assert r.status_code == 422
    assert api.delete(f"/gadgets/{made['id']}").status_code == 204
    assert api.get(f"/gadgets/{made['id']}").status_code == 404


def test_openapi_declares_its_operations_and_filters(tinker):
    doc = Api(tinker).get("/openapi.json").json()
    ops = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    assert {"list_gadgets", "create_gadget", "get_gadget", "update_gadget", "delete_gadget"} <= ops
    params = {p["name"] for p in doc["paths"]["/api/v1/gadgets"]["get"]["parameters"]}
    assert {"price", "serial", "owner", "name"} <= params  # each with its operators: price__gt, ...


def test_permissions_scope_and_the_missing_grant(tinker, other_tinker, rep_a):
    mine = create(tinker, name="Mine")
    theirs = create(other_tinker, name="Theirs")
    assert [g["name"] for g in Api(tinker).get("/gadgets").json()["items"]] == ["Mine"]
    assert Api(tinker).get(f"/gadgets/{theirs['id']}").status_code == 404
    assert Api(tinker).delete(f"/gadgets/{theirs['id']}").status_code == 404
    assert Api(rep_a).get("/gadgets").json()["items"] == []  # a sales rep's role grants no gadgets
    assert Api(rep_a).post("/gadgets", {"name": "x"}).status_code == 403
    viewer = user_with("gadget_viewer", {"gadget": ["view"]}, scope="all")
    assert Api(viewer).patch(f"/gadgets/{mine['id']}", {"name": "Renamed"}).status_code == 403


def test_search_export_and_change_log(tinker, other_tinker):
    made = create(tinker, name="Flux capacitor", serial="FC-88")
    api = Api(tinker)
    create(other_tinker, name="Flux theirs")
    hits = api.get("/search", {"q": "flux"}).json()
    assert [h["name"] for h in hits["gadget"]] == ["Flux capacitor"]
    assert [h["name"] for h in api.get("/search", {"q": "fc-88"}).json()["gadget"]] == ["Flux capacitor"]
    api.patch(f"/gadgets/{made['id']}", {"serial": "=HYPERLINK(1)"})
    r = api.get("/export/gadgets")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert [(row["name"], row["serial"]) for row in rows] == [("Flux capacitor", "'=HYPERLINK(1)")]
    changes = api.get(f"/gadgets/{made['id']}/changes").json()
    assert [c["action"] for c in changes] == ["update", "create"]
    assert changes[0]["changes"]["serial"] == ["FC-88", "=HYPERLINK(1)"]
    assert [c["object_id"] for c in api.get("/changes", {"object_type": "gadget"}).json()["items"]] == [made["id"]] * 2


def test_a_rule_fires_on_its_changes_and_acts_through_its_service(
    boss, tinker, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    rule = rules.rule_create(
        actor=boss,
        data={
            "name": "Pricey gadgets get a serial",
            "object_type": "gadget",
            "trigger_type": "created",
            "conditions": {"all": [{"field": "price", "op": "gt", "value": 100}]},
            "actions": [{"type": "update_fields", "fields": {"serial": "AUDIT"}}],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        cheap = create(tinker, name="Cheap", price="5")
    with django_capture_on_commit_callbacks(execute=True):
        pricey = create(tinker, name="Pricey", price="500")
    assert Gadget.objects.get(pk=pricey["id"]).serial == "AUDIT" and Gadget.objects.get(pk=cheap["id"]).serial == ""
    assert [r.object_id for r in RuleRun.objects.filter(rule=rule, status=RunStatus.SUCCEEDED)] == [pricey["id"]]


def page(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_web_list_saved_view_detail_and_forms(tinker, other_tinker):
    client = page(tinker)
    create(other_tinker, name="Not mine")
    r = client.post("/gadgets/new/", {"name": "Sprocket", "serial": "S-1", "price": "9.50", "owner": tinker.pk})
    assert r.status_code == 302, r.content.decode()[:3000]
    gadget = Gadget.objects.get(name="Sprocket")
    assert r["Location"] == f"/gadgets/{gadget.pk}/" and gadget.owner == tinker and str(gadget.price) == "9.50"
    r = client.post("/gadgets/new/", {"name": "Bad", "price": "lots", "owner": tinker.pk})
    assert r.status_code in (200, 422) and not Gadget.objects.filter(name="Bad").exists()
    html = client.get("/gadgets/").content.decode()
    assert "Sprocket" in html and "Not mine" not in html  # own scope
    assert "Sprocket" in client.get("/gadgets/", {"serial__contains": "S-"}).content.decode()
    assert "Sprocket" not in client.get("/gadgets/", {"serial__contains": "zz"}).content.decode()
    assert client.post("/gadgets/views/", {"name": "S series", "query": "serial__contains=S-"}).status_code == 302
    assert "S series" in client.get("/gadgets/").content.decode()
    detail = client.get(f"/gadgets/{gadget.pk}/").content.decode()
    assert "S-1" in detail and "9.50" in detail
    edit = {"name": "Sprocket", "serial": "S-2", "price": "9.50", "owner": tinker.pk, "version": gadget.version}
    assert client.post(f"/gadgets/{gadget.pk}/edit/", edit).status_code == 302
    gadget.refresh_from_db()
    assert gadget.serial == "S-2" and gadget.version == 2


def test_web_pages_apply_the_roles_grant(tinker, rep_a):
    made = create(tinker, name="Mine")
    client = page(rep_a)  # a sales rep's role grants no gadgets
    assert client.get("/gadgets/").status_code == 403
    assert client.get("/gadgets/new/").status_code == 403
    assert client.get(f"/gadgets/{made['id']}/").status_code == 404
    viewer = user_with("gadget_viewer", {"gadget": ["view"]}, scope="all")
    assert page(viewer).get(f"/gadgets/{made['id']}/").status_code == 200
    assert page(viewer).get(f"/gadgets/{made['id']}/edit/").status_code == 403


def test_a_csv_import_of_gadgets_through_the_generic_importer(tinker, tmp_path, settings):
    """No importer is declared: the generic one reads the importable fields by their kind, writes
    through the type's services, matches on the name, and undo takes it all back."""
    settings.VAR_DIR = tmp_path
    create(tinker, name="Sprocket", price="1")
    suggested = mapping.suggest("gadgets", ["Name", "Serial", "Price", "Gadget owner", "Colour"])
    assert suggested == {"Name": "name", "Serial": "serial", "Price": "price", "Gadget owner": "", "Colour": ""}
    assert mapping.suggest("gadgets", ["Record owner"]) == {"Record owner": "owner"}
    data = b"Name,Serial,Price,Owner\nWidget,W-1,$1,200.50,\nGizmo,G-1,cheap,\nSprocket,S-9,3,tinker\n"
    upload = SimpleUploadedFile("gadgets.csv", data.replace(b"$1,200.50", b'"$1,200.50"'), "text/csv")
    r = Api(tinker).client.post("/api/v1/import/gadgets", {"file": upload}, headers=Api(tinker).headers)
    assert r.status_code in (200, 201), r.content
    batch = ImportBatch.objects.get()
    assert (batch.counts["create"], batch.counts["error"], batch.counts["skip"]) == (1, 1, 1)
    widget = Gadget.objects.get(name="Widget")
    assert (widget.serial, widget.price, widget.owner_id) == ("W-1", Decimal("1200.50"), tinker.pk)
    bad = ImportRow.objects.get(batch=batch, number=3)
    assert bad.errors == {"Price": "'cheap' is not an amount."}
    assert Gadget.objects.get(name="Sprocket").serial == ""  # matched on the name, not updated
    assert ObjectChange.objects.filter(object_type="gadget", object_id=widget.pk, action="create").exists()
    assert importing.undo(batch, actor=tinker) == {"deleted": 1, "restored": 0, "gone": 0}
    assert sorted(Gadget.objects.values_list("name", flat=True)) == ["Sprocket"]


def test_the_cli_imports_gadgets(tinker, tmp_path):
    path = tmp_path / "gadgets.csv"
    path.write_text("Name,Price\nWidget,9.5\nGizmo,lots\n")
    out = io.StringIO()
    call_command("import", "gadgets", str(path), "--user", "tinker", stdout=out, stderr=io.StringIO())
    assert "1 to create" in out.getvalue() and "1 with errors" in out.getvalue()
    assert [(g.name, g.price) for g in Gadget.objects.all()] == [("Widget", Decimal("9.50"))]
    out = io.StringIO()
    call_command("import", "undo", str(ImportBatch.objects.get().pk), "--user", "tinker", stdout=out)
    assert "1 records removed" in out.getvalue() and not Gadget.objects.exists()


def test_the_menu_is_read_from_the_registry(tinker, manager):
    import re

    def menu(user) -> list[str]:
        nav = page(user).get("/").content.decode().split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
        return re.findall(r'<a href="([^"]+)"', nav)

    assert menu(manager)[:13] == [
        "/",
        "/companies/",
        "/contacts/",
        "/leads/",
        "/deals/",
        "/board/",
        "/tasks/",
        "/quotes/",
        "/products/",
        "/price-books/",
        "/orders/",
        "/invoices/",
        "/imports/",
    ]
    assert "/gadgets/" not in menu(manager)  # the manager's role grants no gadgets
    assert menu(tinker) == ["/", "/gadgets/", "/imports/"]  # gadgets are importable, and the role may add them
    viewer = user_with("gadget_viewer", {"gadget": ["view"]})
    assert menu(viewer) == ["/", "/gadgets/"]  # nothing it may add: no Imports
