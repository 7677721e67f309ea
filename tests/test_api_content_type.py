"""A body in a type the operation does not read is refused with 415 and the error shape
(crm/api/media_types.py): JSON operations take application/json, file uploads multipart."""

import json

import pytest
from django.test import Client

from crm.access.models import ApiToken
from crm.automation.models import WebForm
from crm.records.models import Contact

pytestmark = pytest.mark.django_db
VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n"


@pytest.fixture
def client(admin_user):
    _, raw = ApiToken.issue(admin_user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def send(client, method, path, data, content_type):
    return client.generic(method, f"/api/v1{path}", json.dumps(data), content_type=content_type)


def assert_refused(response):
    assert response.status_code == 415, response.content
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded", "text/json"])
def test_a_json_body_sent_as_another_type_is_refused_and_nothing_is_written(client, content_type):
    assert_refused(send(client, "POST", "/contacts", {"first_name": "Ada"}, content_type))
    assert not Contact.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_is_accepted_with_or_without_a_charset(client, content_type):
    r = send(client, "POST", "/contacts", {"first_name": "Ada"}, content_type)
    assert r.status_code == 201, r.content
    assert Contact.objects.get().first_name == "Ada"


def test_patch_takes_json_only(client, admin_user):
    pk = send(client, "POST", "/contacts", {"first_name": "Ada"}, "application/json").json()["id"]
    for content_type in ("text/plain", "application/merge-patch+json", ""):
        assert_refused(send(client, "PATCH", f"/contacts/{pk}", {"first_name": "Bob"}, content_type))
    assert Contact.objects.get(pk=pk).first_name == "Ada"
    r = send(client, "PATCH", f"/contacts/{pk}", {"first_name": "Bob"}, "application/json; charset=utf-8")
    assert r.status_code == 200 and Contact.objects.get(pk=pk).first_name == "Bob"


def test_put_takes_json_only(client):
    preference = {"kind": "digest", "in_app": True, "email": False}
    assert_refused(send(client, "PUT", "/automation/notification-preferences", preference, "text/plain"))
    r = send(client, "PUT", "/automation/notification-preferences", preference, "application/json")
    assert r.status_code == 200 and r.json() == preference


def test_a_file_upload_takes_multipart_only(client):
    r = client.post("/api/v1/vcard/import", {"file": _vcard_file()})  # the test client sends multipart
    assert r.status_code == 201, r.content
    assert Contact.objects.filter(first_name="Ada").count() == 1
    refused = client.post("/api/v1/vcard/import", VCARD, content_type="text/vcard")
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
    assert "multipart/form-data" in refused.json()["error"]["message"]


def test_a_missing_body_is_left_to_validation(client):
    r = client.generic("POST", "/api/v1/contacts", b"", content_type="text/plain")
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


def test_the_public_form_still_takes_an_html_form_post(team):
    WebForm.objects.create(slug="contact-us", name="Contact us", assign_team=team, lead_source="website")
    r = Client().post("/api/v1/automation/forms/contact-us/submit", {"last_name": "Visitor", "email": "v@x.org"})
    assert r.status_code == 201, r.content


def test_operations_with_a_body_document_415(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert "415" in doc["paths"]["/api/v1/contacts"]["post"]["responses"]
    assert "415" in doc["paths"]["/api/v1/contacts/{pk}"]["patch"]["responses"]
    assert "415" in doc["paths"]["/api/v1/vcard/import"]["post"]["responses"]
    assert "415" not in doc["paths"]["/api/v1/contacts/{pk}"]["delete"]["responses"]


def _vcard_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("ada.vcf", VCARD.encode(), content_type="text/vcard")
