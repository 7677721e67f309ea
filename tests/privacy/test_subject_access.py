"""Subject access: one ZIP with everything held about a person, for admins only, and logged."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.test import Client

from crm.audit.models import ObjectChange
from crm.core.errors import BadRequest, NotFound, PermissionDenied
from crm.objects import services as object_services
from crm.objects.records import record_create
from crm.privacy.access import subject_access
from crm.privacy.models import AccessRequest
from tests.privacy.conftest import EMAIL, OTHER_EMAIL, PHONE

pytestmark = pytest.mark.django_db


def unzip(data: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        out = {}
        for name in archive.namelist():
            text = archive.read(name).decode()
            out[name] = json.loads(text) if name.endswith(".json") else text
    return out


def test_a_contact_with_everything_around_them(boss, ann, ann_lead, bob):
    files = unzip(subject_access(actor=boss, email=" ANN.erase@example.org "))
    assert {"README.txt", "person.json", "contacts.json", "contacts.csv", "leads.json", "leads.csv"} <= set(files)
    assert {"timeline.json", "changes.json", "consent.json"} <= set(files)
    person = files["person.json"]
    assert person["asked"] == {"email": EMAIL}
    assert person["emails"] == sorted([EMAIL, OTHER_EMAIL]) and person["phones"] == [PHONE]
    assert {(r["type"], r["id"]) for r in person["records"]} == {("contact", ann.pk), ("lead", ann_lead.pk)}
    (contact,) = files["contacts.json"]
    assert contact["id"] == ann.pk and contact["title"] == "Buyer" and contact["custom_fields"] == {}
    assert sorted(contact["emails"]) == sorted([f"{EMAIL} (work)", f"{OTHER_EMAIL} (home)"])
    assert contact["phones"] == [f"{PHONE} (mobile)"]
    table = list(csv.DictReader(io.StringIO(files["contacts.csv"])))
    assert table[0]["email"] == EMAIL and table[0]["last_name"] == "Erase"
    assert table[0]["phone"] == f"'{PHONE}"  # a leading + is a formula to a spreadsheet: made inert
    assert files["leads.json"][0]["email"] == OTHER_EMAIL  # found by the contact's second address
    timeline = {(t["type"], t.get("subject") or t.get("title")) for t in files["timeline.json"]}
    assert timeline == {("activity", "Called Ann"), ("task", "Send Ann the quote")}
    changes = files["changes.json"]
    assert any(c["object_type"] == "contact" and c["changes"].get("title") == ["", "Buyer"] for c in changes)
    assert {c["object_type"] for c in changes} >= {"contact", "lead", "activity", "task"}
    (consent,) = files["consent.json"]
    assert consent["email_opt_in"] is True and consent["email_opt_in_source"] == "newsletter form"
    assert consent["email_opt_in_at"]
    assert "bob@example.org" not in json.dumps(files)  # someone else stays out
    assert "timeline.json" in files["README.txt"]


def test_found_by_phone_in_any_written_form(boss, ann):
    files = unzip(subject_access(actor=boss, phone="415 555 0123"))
    assert files["person.json"]["asked"] == {"phone": PHONE}
    assert [c["id"] for c in files["contacts.json"]] == [ann.pk]


def test_a_lead_alone_and_by_record(boss):
    from crm.records.services.leads import lead_create

    lead = lead_create(
        actor=boss, data={"last_name": "Solo", "email": "solo@example.org", "phone": "+442071838750"}
    ).obj
    files = unzip(subject_access(actor=boss, record=("lead", lead.pk)))
    assert files["person.json"]["emails"] == ["solo@example.org"]
    assert [r["id"] for r in files["leads.json"]] == [lead.pk] and "contacts.json" not in files


def test_a_custom_object_type_with_an_email_field(boss):
    fields = [
        {"key": "badge_email", "label": "Email", "field_type": "email"},
        {"key": "mobile", "label": "Mobile", "field_type": "phone"},
    ]
    data = {"key": "member", "singular": "Member", "plural": "Members", "slug": "members", "fields": fields}
    kind = object_services.object_type_create(actor=boss, data=data)
    member = record_create(actor=boss, object_type=kind, data={"name": "Ann M", "badge_email": "Ann@Club.example"}).obj
    files = unzip(subject_access(actor=boss, email="ann@club.example"))
    assert [r["id"] for r in files["members.json"]] == [member.pk]
    assert files["members.json"][0]["custom_fields"]["badge_email"] == "ann@club.example"
    assert "custom_fields.badge_email" in files["members.csv"].splitlines()[0]


def test_each_request_is_logged_without_the_identifier(boss, ann):
    subject_access(actor=boss, email=EMAIL)
    entry = AccessRequest.objects.get()
    assert entry.user == boss and entry.counts["contacts.json"] == 1
    assert EMAIL not in json.dumps([entry.subject_hashes, entry.counts])
    assert ObjectChange.objects.filter(object_type="privacy_access", object_id=entry.pk).exists()


def test_bad_input_and_unknown_people(boss, ann):
    with pytest.raises(NotFound, match="Nobody with that email is in the CRM"):
        subject_access(actor=boss, email="nobody@example.org")
    with pytest.raises(BadRequest, match="Give the person"):
        subject_access(actor=boss)
    with pytest.raises(BadRequest) as exc:
        subject_access(actor=boss, email="not an email")
    assert "email" in exc.value.fields
    with pytest.raises(BadRequest, match="do not hold people"):
        subject_access(actor=boss, record=("deal", 1))
    assert not AccessRequest.objects.exists()


def test_non_admins_are_refused(rep_a, ann):
    with pytest.raises(PermissionDenied):
        subject_access(actor=rep_a, email=EMAIL)


def test_api_zip_for_admins_403_for_others(api, boss, rep_a, ann):
    r = api(boss).get("/privacy/subject-access", {"email": EMAIL})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert unzip(r.content)["person.json"]["asked"] == {"email": EMAIL}
    r = api(rep_a).get("/privacy/subject-access", {"email": EMAIL})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = api(boss).get("/privacy/subject-access", {"email": "nobody@example.org"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Nobody with that email is in the CRM."
    r = api(boss).get("/privacy/subject-access", {"email": "@@"})
    assert r.status_code == 400 and "email" in r.json()["error"]["fields"]
    doc = Client().get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/privacy/subject-access"]["get"]
    assert "application/zip" in op["responses"]["200"]["content"]


def test_web_page_downloads_the_zip_for_admins_only(boss, rep_a, ann):
    client = Client()
    client.force_login(boss)
    assert client.get("/settings/privacy/").status_code == 200
    r = client.post("/settings/privacy/", {"email": EMAIL, "action": "export"})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert unzip(r.content)["contacts.json"][0]["id"] == ann.pk
    r = client.post("/settings/privacy/", {"email": "nobody@example.org", "action": "export"})
    assert r.status_code == 422 and b"Nobody with that email is in the CRM." in r.content
    client.force_login(rep_a)
    assert client.get("/settings/privacy/").status_code == 403


def test_cli_export_writes_the_zip(boss, ann, tmp_path):
    out = tmp_path / "ann.zip"
    call_command("privacy", "export", "--email", EMAIL, "--out", str(out), "--user", "boss")
    assert unzip(out.read_bytes())["contacts.json"][0]["id"] == ann.pk
