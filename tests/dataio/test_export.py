"""Exports: the API list's filters, only exportable records, formula injection made inert, CSV and XLSX."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from crm.customization.models import CustomField
from crm.dataio.exporting import cell, inert
from crm.records.services.contacts import contact_create
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_get_an_apostrophe(start):
    assert inert(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert cell(f"{start}1") == f"'{start}1"


def test_plain_values_are_unchanged():
    assert inert("Acme = best") == "Acme = best"
    assert cell(None) == "" and cell(True) == "true" and cell(["a", "b"]) == "a; b"
    assert cell(-5) == "-5"  # a real number stays a number


def test_csv_export_applies_filters_and_scope(api, manager, rep_a, rep_b):
    ContactFactory(first_name="Ann", last_name="Lee", owner=rep_a, city="Oslo")
    ContactFactory(first_name="Bob", last_name="Lee", owner=rep_a, city="Rome")
    ContactFactory(first_name="Cid", last_name="Out", owner=rep_b, city="Oslo")  # not in manager's team
    response = api(manager).get("/export/contacts", {"format": "csv", "city": "Oslo"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["name"] for r in rows] == ["Ann Lee"]
    assert rows[0]["owner_id"] == str(rep_a.pk)


def test_export_neutralizes_formulas_and_flattens_lists(api, admin_user):
    c = ContactFactory(first_name='=HYPERLINK("x")', last_name="@evil", title="+1", owner=admin_user)
    c.emails.create(email="a@example.com", kind="work", is_primary=True)
    c.emails.create(email="b@example.com", kind="home")
    CustomField.objects.create(object_type="contact", key="score", label="Score", field_type="text")
    c.custom_fields = {"score": "-2+3"}
    c.save()
    rows = csv_rows(api(admin_user).get("/export/contacts"))
    row = rows[0]
    assert row["first_name"] == '\'=HYPERLINK("x")' and row["last_name"] == "'@evil" and row["title"] == "'+1"
    assert row["emails"] == "a@example.com; b@example.com"
    assert row["cf_score"] == "'-2+3"


def test_xlsx_export(api, admin_user):
    CompanyFactory(name="Acme", owner=admin_user)
    CompanyFactory(name="=cmd|' /C calc'!A0", owner=admin_user)
    response = api(admin_user).get("/export/companies", {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    header = values[0]
    names = [r[header.index("name")] for r in values[1:]]
    assert names == ["Acme", "'=cmd|' /C calc'!A0"]


def test_xlsx_export_drops_control_characters_csv_keeps_them(api, admin_user, rep_a):
    # The API takes such text; openpyxl refused it (IllegalCharacterError), so every XLSX export was a 500.
    client = api(admin_user)
    data = {"first_name": "Bell\x07", "last_name": "Ring\x1b[0m", "title": "\x07=cmd|' /C calc'!A0"}
    r = client.post("/contacts", data)
    assert r.status_code == 201, r.content
    ContactFactory(first_name="Plain", last_name="Tab\tKept", owner=admin_user)
    response = client.get("/export/contacts", {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [list(row) for row in book.active.iter_rows(values_only=True)]
    header = values[0]
    picked = [tuple(row[header.index(k)] for k in ("first_name", "last_name", "title")) for row in values[1:]]
    # Dropping the bell must not turn the title into a formula: it stays inert.
    assert picked == [("Bell", "Ring[0m", "'=cmd|' /C calc'!A0"), ("Plain", "Tab\tKept", None)]
    rows = csv_rows(client.get("/export/contacts", {"format": "csv"}))
    assert (rows[0]["first_name"], rows[0]["last_name"]) == ("Bell\x07", "Ring\x1b[0m")


def test_role_without_export_is_refused(api, rep_a, readonly):
    ContactFactory(owner=rep_a)
    for user in (rep_a, readonly):
        response = api(user).get("/export/contacts")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


def test_marketer_may_export_contacts_but_not_deals(api, marketer):
    ContactFactory(first_name="Zed")
    assert [r["first_name"] for r in csv_rows(api(marketer).get("/export/contacts"))] == ["Zed"]
    assert api(marketer).get("/export/deals").status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/export/widgets", {}, "type"),
        ("/export/contacts", {"format": "pdf"}, "format"),
        ("/export/contacts", {"colour": "red"}, "colour"),
        ("/export/contacts", {"id": "abc"}, "id"),
    ],
)
def test_bad_requests_are_clear_400s(api, admin_user, path, params, field):
    response = api(admin_user).get(path, params)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_search_query_applies(api, admin_user):
    contact_create(actor=admin_user, data={"first_name": "Findme"})  # the service keeps the search index
    contact_create(actor=admin_user, data={"first_name": "Other"})
    rows = csv_rows(api(admin_user).get("/export/contacts", {"q": "Other"}))
    assert [r["first_name"] for r in rows] == ["Other"]


def test_export_command_csv_to_stdout_and_filters(manager, rep_a):
    ContactFactory(first_name="Ann", owner=rep_a, city="Oslo")
    ContactFactory(first_name="Bob", owner=rep_a, city="Rome")
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "contacts", "--filter", "city=Oslo", "--user", "manager", stdout=out, stderr=err)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["first_name"] for r in rows] == ["Ann"]
    assert "Exported 1 contacts" in err.getvalue()


def test_export_command_xlsx_to_file(tmp_path, admin_user):
    CompanyFactory(name="Acme")
    target = tmp_path / "c.xlsx"
    call_command(
        "export", "companies", "--format", "xlsx", "--output", str(target), "--user", "boss", stderr=io.StringIO()
    )
    sheet = openpyxl.load_workbook(target, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][rows[0].index("name")] == "Acme"


def test_export_command_errors(rep_a, tmp_path):
    with pytest.raises(CommandError, match="may not export"):
        call_command("export", "contacts", "--user", "rep_a", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No active user"):
        call_command("export", "contacts", "--user", "ghost")
    UserFactory(username="root", is_superuser=True, role="admin")
    with pytest.raises(CommandError, match="Unknown filter"):
        call_command("export", "contacts", "--filter", "colour=red", stdout=io.StringIO())
    with pytest.raises(CommandError, match="key=value"):
        call_command("export", "contacts", "--filter", "colour", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--output"):
        call_command("export", "contacts", "--format", "xlsx")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_record_type_exports(api, admin_user, pipeline, fmt):
    from tests.factories import ActivityFactory, DealFactory, LeadFactory, TaskFactory

    company = CompanyFactory(name="Acme", owner=admin_user, annual_revenue="1234.50")
    DealFactory(pipeline=pipeline, company=company, owner=admin_user, amount="99.90")
    LeadFactory(owner=admin_user)
    ActivityFactory(company=company, owner=admin_user)
    TaskFactory(company=company, assignee=admin_user)
    ContactFactory(owner=admin_user, company=company)
    for object_type in ("companies", "contacts", "leads", "deals", "activities", "tasks"):
        response = api(admin_user).get(f"/export/{object_type}", {"format": fmt})
        assert response.status_code == 200, (object_type, response.content)
        body = b"".join(response.streaming_content)
        if fmt == "csv":
            table = list(csv.reader(io.StringIO(body.decode())))
        else:
            table = list(openpyxl.load_workbook(io.BytesIO(body), read_only=True).active.iter_rows(values_only=True))
        assert len(table) == 2 and table[0][0] == "id", object_type
