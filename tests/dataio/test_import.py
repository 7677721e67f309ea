"""CSV import of contacts: detection, mapping, dry run, create/update/skip, per-row errors, undo,
and every kind of bad file refused with a clear message and nothing written."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from crm.audit.models import ObjectChange
from crm.core.errors import BadRequest, ValidationFailed
from crm.customization.models import CustomField
from crm.dataio import importing
from crm.dataio.mapping import suggest
from crm.dataio.models import ImportBatch, ImportRow
from crm.records.models import Contact
from crm.records.services.contacts import contact_create
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

GOOD = (
    "First Name,Last Name,E-mail Address,Business Phone,Company,Job Title,Tags\n"
    "Ann,Lee,ann@acme.com,(202) 555-0100,Acme,CTO,vip;east\n"
    'Bob,"Stone, Jr",bob@acme.com,,Nowhere Ltd,"Head of\nPlanning",\n'
    "Cid,Moss,not-an-email,,,,\n"
    "Dee,Dunn,ANN@acme.com,,,,\n"
)


def run(user, text: str | bytes, **kw):
    data = text.encode() if isinstance(text, str) else text
    return importing.run(io.BytesIO(data), actor=user, **kw)


def rows(batch):
    return {r.number: r for r in ImportRow.objects.filter(batch=batch)}


def test_dry_run_reports_everything_and_writes_nothing(manager):
    CompanyFactory(name="Acme", owner=manager)
    batch = run(manager, GOOD, dry_run=True)
    assert batch.status == "dry_run"
    assert batch.counts == {
        "create": 2,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 1,
    }
    assert not Contact.objects.exists() and not ObjectChange.objects.filter(object_type="contact").exists()
    found = rows(batch)
    assert "E-mail Address" in found[5].errors  # Bob's quoted newline spans lines 3 and 4
    assert found[6].errors == {"email": "Same email as line 2 of this file."}
    assert found[3].warnings == ["No company named 'Nowhere Ltd'; the contact is saved without one."]
    assert found[5].values == ["Cid", "Moss", "not-an-email", "", "", "", ""]


def test_commit_creates_through_the_service(manager):
    acme = CompanyFactory(name="Acme", owner=manager)
    batch = run(manager, GOOD)
    assert batch.status == "done" and batch.counts["create"] == 2
    ann = Contact.objects.get(email="ann@acme.com")
    assert (ann.first_name, ann.last_name, ann.title, ann.company_id, ann.phone) == (
        "Ann",
        "Lee",
        "CTO",
        acme.pk,
        "+12025550100",
    )
    assert sorted(ann.tags.values_list("name", flat=True)) == ["east", "vip"]
    bob = Contact.objects.get(email="bob@acme.com")
    assert bob.last_name == "Stone, Jr" and bob.title == "Head of\nPlanning"  # quoted comma and newline
    assert ObjectChange.objects.filter(object_type="contact", action="create").count() == 2
    assert rows(batch)[2].object_id == ann.pk


def test_existing_contacts_are_skipped_or_updated_and_undo_restores(manager):
    old = contact_create(actor=manager, data={"first_name": "Ann", "last_name": "Old", "email": "ann@acme.com"}).obj
    skipped = run(manager, "email,last name,city\nann@acme.com,Lee,Oslo\nnew@x.com,New,Rome\n")
    assert skipped.counts == {
        "create": 1,
        "update": 0,
        "skip": 1,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    old.refresh_from_db()
    assert old.last_name == "Old"

    updated = run(manager, "email,last name,city\nann@acme.com,Lee,Oslo\nnewer@x.com,Newer,\n", update_existing=True)
    assert updated.counts == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    old.refresh_from_db()
    assert (old.last_name, old.city) == ("Lee", "Oslo")

    done = importing.undo(updated, actor=manager)
    assert done == {"deleted": 1, "restored": 1, "gone": 0}
    old.refresh_from_db()
    assert (old.last_name, old.city) == ("Old", "")
    assert not Contact.objects.filter(email="newer@x.com").exists()
    assert Contact.objects.filter(email="new@x.com").exists()  # the first batch is untouched
    with pytest.raises(BadRequest, match="undone"):
        importing.undo(updated, actor=manager)


def test_undo_of_a_batch_written_in_several_chunks(manager, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 25)  # rows, their results and undo all go chunk by chunk
    text = "email,first name\n" + "".join(f"p{i}@x.com,P{i}\n" for i in range(60))
    batch = run(manager, text)
    assert batch.rows.count() == 60
    assert batch.counts["create"] == 60 and Contact.objects.count() == 60
    assert importing.undo(batch, actor=manager)["deleted"] == 60
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("cp1252", ";"), ("utf-8", "|")],
)
def test_encodings_and_delimiters_are_detected(manager, encoding, delimiter):
    text = f"Vorname{delimiter}Nachname{delimiter}Email\nJosé{delimiter}Müller{delimiter}jm@x.de\n"
    mapping = {"Vorname": "first_name", "Nachname": "last_name", "Email": "email"}
    batch = run(manager, text.encode(encoding), columns=mapping)
    assert batch.counts["create"] == 1, rows(batch)
    assert batch.delimiter == delimiter
    assert Contact.objects.get().name == "José Müller"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary"),
        (b"email,first name\n", "no rows"),
        (b"email,Email\na@x.com,b@x.com\n", "twice"),
        (b"email,,name\na@x.com,,Ann\n", "no name"),
        (b"email,first name\n" + b"a@x.com," + b"x" * (10 * 1024 * 1024) + b"\n", "larger than"),
    ],
)
def test_bad_files_are_clear_errors_and_write_nothing(manager, content, message):
    with pytest.raises(BadRequest, match=message):
        run(manager, content)
    assert not Contact.objects.exists()


def test_a_bad_cell_late_in_the_file_rolls_back_the_whole_batch(manager):
    text = "email,first name\n" + "".join(f"p{i}@x.com,P{i}\n" for i in range(20)) + "z@x.com," + "y" * 2_000_000
    with pytest.raises(BadRequest, match="larger than"):
        run(manager, text)
    assert not Contact.objects.exists()
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and "larger than" in batch.message and not batch.rows.exists()


def test_ragged_rows_are_row_errors(manager):
    batch = run(manager, "email,first name\na@x.com,Ann,extra\nb@x.com\nc@x.com,Cid\n")
    assert batch.counts == {
        "create": 1,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert rows(batch)[2].errors == {"row": "3 cells; the header has 2."}


def test_bad_values_name_their_column(manager):
    CustomField.objects.create(object_type="contact", key="shoe", label="Shoe size", field_type="integer")
    text = "email,phone,owner,lifecycle stage,email opt in,shoe size\na@x.com,12,ghost,alien,maybe,big\n"
    batch = run(manager, text)
    errors = rows(batch)[2].errors
    assert set(errors) == {"phone", "owner", "lifecycle stage", "email opt in"}
    fixed = run(manager, "email,owner,lifecycle stage,email opt in,shoe size\na@x.com,manager,Customer,yes,big\n")
    assert set(rows(fixed)[2].errors) == {"custom_fields.shoe"}  # the service's own check


def test_mapping_suggestions_for_google_and_outlook_headers():
    google = ["Given Name", "Family Name", "E-mail 1 - Value", "Phone 1 - Value", "Organization 1 - Name"]
    assert list(suggest("contacts", google).values()) == ["first_name", "last_name", "email", "phone", "company"]
    outlook = ["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Job Title", "Business City", "Notes"]
    assert list(suggest("contacts", outlook).values()) == [
        "first_name",
        "last_name",
        "email",
        "mobile",
        "title",
        "city",
        "",
    ]


def test_bad_mappings_are_refused(manager):
    with pytest.raises(ValidationFailed) as exc:
        run(manager, "a,b\n1,2\n", columns={"a": "email", "b": "email", "c": "title"})
    assert set(exc.value.fields) == {"mapping.b", "mapping.c"}
    with pytest.raises(ValidationFailed) as exc:
        run(manager, "foo,bar\n1,2\n")
    assert "No column" in exc.value.fields["mapping"]


def test_permissions(readonly, rep_a):
    with pytest.raises(Exception, match="may not add"):
        run(readonly, "email\na@x.com\n")
    batch = run(rep_a, "email\na@x.com\n")
    assert Contact.objects.get().owner_id == rep_a.pk and batch.created_by == rep_a


def upload(api, user, text, **form):
    client = api(user)
    data = {"file": SimpleUploadedFile("people.csv", text.encode(), "text/csv"), **form}
    return client.client.post("/api/v1/import/contacts", data, headers=client.headers)


def test_api_dry_run_commit_error_report_and_undo(api, manager, rep_a):
    text = "Email,Name\nann@x.com,Ann Lee\nbad,Bob\n=cmd,Eve\n"
    preview = upload(api, manager, text, dry_run="true")
    assert preview.status_code == 200, preview.content
    assert preview.json()["counts"] == {
        "create": 1,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert not Contact.objects.exists()

    response = upload(api, manager, text, mapping=json.dumps({"Email": "email", "Name": "full_name"}))
    assert response.status_code == 201
    body = response.json()
    assert body["counts"]["create"] == 1 and [r["line"] for r in body["rows"]] == [3, 4]
    ann = Contact.objects.get()
    assert (ann.first_name, ann.last_name) == ("Ann", "Lee")

    report = api(manager).get(f"/import/batches/{body['id']}/errors.csv")
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert lines[0] == ["line", "action", "problems", "Email", "Name"]
    assert lines[1][:2] == ["3", "error"] and lines[1][3:] == ["bad", "Bob"]
    assert lines[2][3] == "'=cmd"  # the original cell, made inert

    assert api(rep_a).get(f"/import/batches/{body['id']}").status_code == 404  # someone else's batch
    assert api(manager).get(f"/import/batches/{body['id']}").json()["status"] == "done"
    assert api(manager).post(f"/import/batches/{body['id']}/undo").json()["deleted"] == 1
    assert not Contact.objects.exists()


def test_api_bad_input(api, manager):
    assert upload(api, manager, "").status_code == 400
    assert upload(api, manager, "email\na@x.com\n", mapping="{not json").status_code == 422
    client = api(manager)
    response = client.client.post(
        "/api/v1/import/leads", {"file": SimpleUploadedFile("a.csv", b"email\n")}, headers=client.headers
    )
    assert response.status_code == 400


def test_cli_dry_run_commit_and_undo(tmp_path, manager):
    path = tmp_path / "people.csv"
    path.write_text("email,first name\nann@x.com,Ann\nbad,Bob\n")
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--dry-run", "--user", "manager", stdout=out, stderr=io.StringIO())
    assert "Would import batch" in out.getvalue() and "1 to create" in out.getvalue()
    assert "line 3 (error)" in out.getvalue() and not Contact.objects.exists()

    out = io.StringIO()
    call_command("import", "contacts", str(path), "--user", "manager", stdout=out, stderr=io.StringIO())
    batch = ImportBatch.objects.get(status="done")
    assert f"Imported batch {batch.pk}" in out.getvalue() and Contact.objects.count() == 1

    out = io.StringIO()
    call_command("import", "undo", str(batch.pk), "--user", "manager", stdout=out)
    assert "1 records removed" in out.getvalue() and not Contact.objects.exists()


def test_cli_errors(tmp_path, manager):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import", "contacts", str(tmp_path / "missing.csv"), "--user", "manager")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import", "contacts", str(empty), "--user", "manager", stderr=io.StringIO())
    with pytest.raises(CommandError, match="No import batch"):
        call_command("import", "undo", "999", "--user", "manager")


def test_rows_without_email_are_always_created(manager):
    batch = run(manager, "first name,city\nAnn,Oslo\nAnn,Oslo\n", update_existing=True)
    assert batch.counts == {
        "create": 2,
        "update": 0,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }


def xlsx(rows) -> bytes:
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append([dt.date(*r) if isinstance(r, tuple) else r for r in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_import(manager):
    CustomField.objects.create(object_type="contact", key="since", label="Since", field_type="date")
    data = xlsx(
        [
            ["First Name", "Email", "Phone", "Since", None],
            ["Ann", "ann@x.com", 2025550100, (2020, 5, 17)],
            [None, None, None, None],
            ["Bob", "nope", None, None, None],
            ["Cid", "cid@x.com", None, None, "stray"],
        ]
    )
    batch = run(manager, data)
    assert batch.encoding == "xlsx"
    assert batch.counts == {
        "create": 1,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    ann = Contact.objects.get()
    assert ann.phone == "+12025550100" and ann.custom_fields == {"since": "2020-05-17"}
    found = rows(batch)
    assert "Email" in found[4].errors and found[5].errors == {"row": "5 cells; the header has 4."}


def test_bad_xlsx_files(manager, tmp_path):
    import zipfile

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    for content in (zipped.getvalue(), b"PK\x03\x04garbage" * 10, xlsx([]), xlsx([["Email"]])):
        with pytest.raises(BadRequest):
            run(manager, content)
    assert not Contact.objects.exists()


def test_api_suggests_columns(api, manager):
    client = api(manager)
    csv_file = SimpleUploadedFile("g.csv", b"Given Name,Family Name,Notes\nAnn,Lee,hi\n", "text/csv")
    response = client.client.post("/api/v1/import/contacts/columns", {"file": csv_file}, headers=client.headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mapping"] == {"Given Name": "first_name", "Family Name": "last_name", "Notes": ""}
    assert "email" in body["targets"] and not Contact.objects.exists()


def test_companies_import_matches_by_domain_and_undoes(manager):
    from crm.records.models import Company
    from crm.records.services.companies import company_create

    acme = company_create(actor=manager, data={"name": "Acme", "domain": "acme.com", "industry": "Tools"}).obj
    text = (
        "Company Name,Website,Industry,Employees,Annual Revenue,Phone\n"
        'ACME Corp,https://www.acme.com/about,Rockets,51-200,"$1,234.50",\n'
        "Globex,globex.io,,,,(202) 555-0111\n"
        "Initech,,,huge,lots,\n"
        "Globex Again,http://globex.io,,,,\n"
    )
    preview = run(manager, text, object_type="companies", dry_run=True, update_existing=True)
    assert preview.counts == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    found = rows(preview)
    assert set(found[4].errors) == {"Employees", "Annual Revenue"}
    assert found[5].errors == {"domain": "Same domain as line 3 of this file."}

    batch = run(manager, text, object_type="companies", update_existing=True)
    acme.refresh_from_db()
    assert (acme.name, acme.industry, acme.size, str(acme.annual_revenue)) == (
        "ACME Corp",
        "Rockets",
        "51-200",
        "1234.50",
    )
    globex = Company.objects.get(domain="globex.io")
    assert globex.phone == "+12025550111" and globex.website == "https://globex.io"
    assert importing.undo(batch, actor=manager) == {"deleted": 1, "restored": 1, "gone": 0}
    acme.refresh_from_db()
    assert (acme.name, acme.industry, acme.size, acme.annual_revenue) == ("Acme", "Tools", "", None)
    assert not Company.objects.filter(domain="globex.io").exists()


def test_company_mapping_suggestions():
    header = ["Account Name", "Company Domain Name", "Website", "Number of Employees", "Billing City", "Notes"]
    assert list(suggest("companies", header).values()) == ["name", "domain", "website", "size", "city", ""]
