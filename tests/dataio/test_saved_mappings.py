"""Saved column mappings: the service (save/replace, list, get, delete, permissions), the API at
/api/v1/import/mappings and ``mapping_name`` on an import, and the command line's --mapping NAME and
--save-mapping; plus the command's progress bar."""

import importlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rich.console import Console
from rich.progress import Progress

from crm.core.errors import BadRequest, NotFound, PermissionDenied, ValidationFailed
from crm.customization.models import CustomField
from crm.dataio import importing, saved_mappings
from crm.dataio.models import ImportBatch, ImportMapping
from crm.records.models import Deal, Lead

pytestmark = pytest.mark.django_db

command = importlib.import_module("crm.dataio.management.commands.import")  # "import" is a keyword
ImportProgress, PercentColumn, RowsColumn = command.ImportProgress, command.PercentColumn, command.RowsColumn

HUBSPOT = {"Deal Name": "name", "Amount": "amount", "Notes": ""}


# ---- service ------------------------------------------------------------------------------------


def test_save_creates_then_replaces_by_name(manager):
    saved, created = saved_mappings.save(actor=manager, object_type="deals", name=" HubSpot ", columns=HUBSPOT)
    assert created and (saved.name, saved.created_by) == ("HubSpot", manager)
    assert saved.mapping == {"Deal Name": "name", "Amount": "amount"}  # ignored columns are not kept

    again, created = saved_mappings.save(
        actor=manager, object_type="deals", name="HubSpot", columns={"Dealname": "name"}
    )
    assert not created and again.pk == saved.pk and again.mapping == {"Dealname": "name"}
    # The same name for another object type is another mapping.
    _, created = saved_mappings.save(actor=manager, object_type="leads", name="HubSpot", columns={"E": "email"})
    assert created and ImportMapping.objects.count() == 2


def test_targets_are_checked_not_the_columns(manager):
    CustomField.objects.create(object_type="deal", key="region", label="Region", field_type="text")
    saved, _ = saved_mappings.save(
        actor=manager, object_type="deals", name="ok", columns={"Any header": "cf_region", "Stage": "stage"}
    )
    assert saved.mapping == {"Any header": "cf_region", "Stage": "stage"}
    with pytest.raises(ValidationFailed) as exc:
        saved_mappings.save(
            actor=manager,
            object_type="deals",
            name="bad",
            columns={"A": "name", "B": "name", "C": "email", "D": "cf_nope"},
        )
    assert exc.value.fields == {
        "mapping.B": "name is already fed by column 'A'.",
        "mapping.C": "Unknown field 'email'.",
        "mapping.D": "Unknown field 'cf_nope'.",
    }
    for columns in ({}, {"A": ""}, ["name"]):
        with pytest.raises(ValidationFailed):
            saved_mappings.save(actor=manager, object_type="deals", name="bad", columns=columns)
    with pytest.raises(ValidationFailed, match="values"):
        saved_mappings.save(actor=manager, object_type="deals", name="  ", columns=HUBSPOT)
    with pytest.raises(BadRequest, match="Cannot import 'tasks'"):
        saved_mappings.save(actor=manager, object_type="tasks", name="x", columns=HUBSPOT)
    assert ImportMapping.objects.count() == 1


def test_permissions(manager, rep_a, admin_user, readonly, support):
    saved, _ = saved_mappings.save(actor=rep_a, object_type="deals", name="Mine", columns=HUBSPOT)
    with pytest.raises(PermissionDenied, match="may not add deals"):
        saved_mappings.save(actor=readonly, object_type="deals", name="Other", columns=HUBSPOT)
    with pytest.raises(PermissionDenied, match="may replace it"):
        saved_mappings.save(actor=manager, object_type="deals", name="Mine", columns={"X": "name"})
    with pytest.raises(PermissionDenied, match="may delete it"):
        saved_mappings.delete(saved, actor=manager)
    assert ImportMapping.objects.get().mapping == {"Deal Name": "name", "Amount": "amount"}

    saved_mappings.save(actor=admin_user, object_type="deals", name="Mine", columns={"X": "name"})
    saved.refresh_from_db()
    assert saved.mapping == {"X": "name"} and saved.created_by == rep_a  # still rep_a's

    # Listing shows the mappings of the types the user may import: support agents may add contacts, not deals.
    saved_mappings.save(actor=support, object_type="contacts", name="Outlook", columns={"E-mail": "email"})
    assert [m.name for m in saved_mappings.listed(actor=support)] == ["Outlook"]
    assert [m.name for m in saved_mappings.listed(actor=manager)] == ["Mine", "Outlook"]
    assert [m.name for m in saved_mappings.listed(actor=manager, object_type="deals")] == ["Mine"]
    with pytest.raises(PermissionDenied):
        saved_mappings.listed(actor=support, object_type="deals")
    with pytest.raises(NotFound):
        saved_mappings.get_by_id(actor=support, pk=saved.pk)

    saved_mappings.delete(saved, actor=admin_user)
    with pytest.raises(NotFound, match="No saved mapping named 'Mine' for deals"):
        saved_mappings.get(actor=rep_a, object_type="deals", name="Mine")


# ---- API ----------------------------------------------------------------------------------------


def test_api_save_list_replace_and_delete(api, manager, rep_a):
    client = api(manager)
    body = {"object_type": "deals", "name": "HubSpot", "mapping": HUBSPOT}
    created = client.post("/import/mappings", body)
    assert created.status_code == 201, created.content
    assert created.json()["mapping"] == {"Deal Name": "name", "Amount": "amount"}
    assert created.json()["created_by"] == "manager"
    pk = created.json()["id"]

    replaced = client.post("/import/mappings", {**body, "mapping": {"Title": "name"}})
    assert replaced.status_code == 200 and replaced.json()["id"] == pk
    leads = client.post("/import/mappings", {"object_type": "leads", "name": "SF", "mapping": {"E": "email"}})
    assert leads.status_code == 201

    listed = client.get("/import/mappings", {"object_type": "deals"}).json()["items"]
    assert [(m["name"], m["mapping"]) for m in listed] == [("HubSpot", {"Title": "name"})]
    assert {m["object_type"] for m in client.get("/import/mappings").json()["items"]} == {"deals", "leads"}

    refused = api(rep_a).delete(f"/import/mappings/{pk}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert client.delete(f"/import/mappings/{pk}").status_code == 204
    assert client.delete(f"/import/mappings/{pk}").status_code == 404
    assert client.delete("/import/mappings/abc").status_code == 404


def test_api_refuses_bad_mappings_with_clear_errors(api, manager, readonly):
    client = api(manager)
    bad = client.post("/import/mappings", {"object_type": "deals", "name": "x", "mapping": {"A": "nope"}})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"mapping.A": "Unknown field 'nope'."}
    assert client.post("/import/mappings", {"object_type": "deals", "name": "x"}).status_code == 422
    assert client.post("/import/mappings", {"object_type": "deals", "name": "x", "mapping": [1]}).status_code == 422
    unknown = client.post("/import/mappings", {"object_type": "widgets", "name": "x", "mapping": HUBSPOT})
    assert unknown.status_code == 400 and "Cannot import" in unknown.json()["error"]["message"]
    assert client.get("/import/mappings", {"object_type": "widgets"}).status_code == 400
    denied = api(readonly).post("/import/mappings", {"object_type": "deals", "name": "x", "mapping": HUBSPOT})
    assert denied.status_code == 403
    assert not ImportMapping.objects.exists()


def upload(api, user, object_type, text, **form):
    client = api(user)
    data = {"file": SimpleUploadedFile("f.csv", text.encode(), "text/csv"), **form}
    return client.client.post(f"/api/v1/import/{object_type}", data, headers=client.headers)


def test_api_import_with_a_saved_mapping(api, manager, pipeline):
    saved_mappings.save(actor=manager, object_type="deals", name="Sheet", columns={"Title": "name", "Sum": "amount"})
    text = "Title,Sum,Name\nBig,100,ignored\n"
    response = upload(api, manager, "deals", text, mapping_name="Sheet")
    assert response.status_code == 201, response.content
    assert response.json()["mapping"] == {"Title": "name", "Sum": "amount", "Name": ""}
    assert list(Deal.objects.values_list("name", "amount")) == [("Big", 100)]

    missing = upload(api, manager, "deals", text, mapping_name="Nope")
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"mapping_name": "No saved mapping named 'Nope' for deals."}
    both = upload(api, manager, "deals", text, mapping_name="Sheet", mapping=json.dumps({"Title": "name"}))
    assert both.status_code == 422 and "not both" in both.json()["error"]["fields"]["mapping_name"]
    other_file = upload(api, manager, "deals", "Title,Total\nX,1\n", mapping_name="Sheet")
    assert other_file.status_code == 422
    assert other_file.json()["error"]["fields"] == {"mapping.Sum": "No such column in the file."}
    assert Deal.objects.count() == 1


# ---- command line -------------------------------------------------------------------------------


def cli(*args: str) -> str:
    """`crm import ARGS`; returns what it printed."""
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_cli_save_mapping_then_import_by_name(tmp_path, manager):
    first = tmp_path / "first.csv"
    first.write_text("E-post,Förnamn\nann@x.se,Ann\n")
    mapping_file = tmp_path / "map.json"
    mapping_file.write_text(json.dumps({"E-post": "email", "Förnamn": "first_name"}))
    out = cli(
        "leads", str(first), "--mapping", str(mapping_file), "--save-mapping", "Swedish sheet", "--user", "manager"
    )
    assert "Saved mapping 'Swedish sheet' for leads." in out
    saved = ImportMapping.objects.get()
    assert (saved.object_type, saved.mapping) == ("leads", {"E-post": "email", "Förnamn": "first_name"})

    second = tmp_path / "second.csv"
    second.write_text("E-post,Förnamn\nbo@x.se,Bo\n")
    assert "1 to create" in cli("leads", str(second), "--mapping", "Swedish sheet", "--user", "manager")
    assert Lead.objects.get(email="bo@x.se").first_name == "Bo"


def test_cli_saves_the_suggested_mapping_and_refuses_unknown_names(tmp_path, manager, rep_a):
    path = tmp_path / "deals.csv"
    path.write_text("Deal Name,Amount,Notes\nA,1\n")
    cli("deals", str(path), "--dry-run", "--save-mapping", "hs", "--user", "manager")
    assert ImportMapping.objects.get(name="hs").mapping == {"Deal Name": "name", "Amount": "amount"}
    with pytest.raises(CommandError, match="no such file, and no saved mapping of that name for deals"):
        cli("deals", str(path), "--mapping", "nope", "--user", "manager")
    with pytest.raises(CommandError, match="may replace it"):  # the import ran; replacing manager's mapping is refused
        cli("deals", str(path), "--dry-run", "--save-mapping", "hs", "--user", "rep_a")


def test_cli_imports_every_registered_type(tmp_path, manager):
    path = tmp_path / "notes.csv"
    path.write_text("Type,Subject\ncall,Hello\n")
    out = cli("activities", str(path), "--user", "manager")
    batch = ImportBatch.objects.get()
    assert batch.object_type == "activities" and f"Imported batch {batch.pk}: 1 to create" in out


def test_progress_bar_shows_fraction_rows_and_rate(tmp_path, manager, monkeypatch):
    progress = Progress(console=Console(file=io.StringIO()))
    callback = ImportProgress(progress)
    callback(500)  # the one-argument form: rows only, fraction unknown
    task = progress.tasks[0]
    assert task.total is None and PercentColumn().render(task).plain == ""
    callback(1000, 0.25)
    task = progress.tasks[0]
    assert PercentColumn().render(task).plain == " 25%"
    assert RowsColumn().render(task).plain.startswith("1,000 rows  ")
    assert RowsColumn().render(task).plain.endswith(" rows/s")

    # A real run calls it once per chunk with the rows so far and the fraction of the file read.
    calls = []
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    monkeypatch.setattr(ImportProgress, "__call__", lambda self, rows, fraction=None: calls.append((rows, fraction)))
    path = tmp_path / "leads.csv"
    path.write_text("email\na@x.com\nb@x.com\nc@x.com\n")
    call_command("import", "leads", str(path), "--user", "manager", stdout=io.StringIO(), stderr=io.StringIO())
    assert [rows for rows, _ in calls] == [2, 3]
    assert all(0 < fraction <= 1 for _, fraction in calls) and calls[-1][1] == 1.0
