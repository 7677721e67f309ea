"""After an erasure the person cannot be added again: by the API, an import, a web form, or a custom
object's create; the message says why. Without ``block`` they can."""

import io

import pytest
from django.test import Client

from crm.automation.models import WebForm
from crm.core.errors import ValidationFailed
from crm.dataio import importing
from crm.dataio.models import ImportRow
from crm.objects import services as object_services
from crm.objects.records import record_create
from crm.privacy.blocklist import MESSAGE
from crm.privacy.erasure import erase
from crm.records.models import Contact, Lead
from crm.records.services.contacts import contact_create
from tests.privacy.conftest import EMAIL, OTHER_EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased(boss, ann):
    erase(actor=boss, email=EMAIL)


def test_api_refuses_a_blocked_email_or_phone(api, boss, erased):
    r = api(boss).post("/contacts", {"first_name": "Ann", "email": "ANN.ERASE@example.org"})
    assert r.status_code == 422 and r.json()["error"]["fields"]["email"] == MESSAGE
    r = api(boss).post("/leads", {"last_name": "Ann", "phone": "+1 415 555 0123"})
    assert r.status_code == 422 and r.json()["error"]["fields"]["phone"] == MESSAGE
    r = api(boss).post("/leads", {"last_name": "Ann", "email": OTHER_EMAIL})  # her second address too
    assert r.status_code == 422 and r.json()["error"]["message"] == MESSAGE
    assert api(boss).post("/contacts", {"first_name": "Someone", "email": "else@example.org"}).status_code == 201
    assert not Contact.objects.filter(email=EMAIL).exists() and not Lead.objects.exists()


def test_import_rows_are_refused_with_the_reason(boss, erased):
    data = f"First name,Email\nAnn,{EMAIL}\nCarl,carl@example.org\n"
    batch = importing.run(io.BytesIO(data.encode()), actor=boss, object_type="contacts")
    assert batch.counts["create"] == 1 and batch.counts["error"] == 1
    row = ImportRow.objects.get(batch=batch, action="error")
    assert MESSAGE in row.errors.values()
    leads = importing.run(io.BytesIO(f"Last name,Email\nAnn,{EMAIL}\n".encode()), actor=boss, object_type="leads")
    assert leads.counts["error"] == 1 and not Lead.objects.exists()


def test_web_to_lead_form_refuses_them(erased):
    WebForm.objects.create(slug="contact-us", name="Contact us", lead_source="website")
    r = Client().post(
        "/api/v1/automation/forms/contact-us/submit",
        {"last_name": "Ann", "email": EMAIL},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert r.status_code == 422 and MESSAGE in r.content.decode()
    assert not Lead.objects.exists()


def test_custom_object_with_an_email_field_refuses_them(boss, erased):
    fields = [{"key": "badge_email", "label": "Email", "field_type": "email"}]
    data = {"key": "member", "singular": "Member", "plural": "Members", "slug": "members", "fields": fields}
    kind = object_services.object_type_create(actor=boss, data=data)
    with pytest.raises(ValidationFailed) as exc:
        record_create(actor=boss, object_type=kind, data={"name": "A", "badge_email": EMAIL})
    assert exc.value.fields == {"email": MESSAGE}


def test_without_block_they_may_come_back(boss, ann):
    erase(actor=boss, email=EMAIL, block=False)
    assert contact_create(actor=boss, data={"first_name": "Ann", "email": EMAIL}).obj.pk


def test_blocked_emails_names_the_blocked_addresses_among_a_messages_participants(db):
    from crm.privacy.blocklist import blocked_emails, keyed_hash
    from crm.privacy.models import Blocked

    Blocked.objects.create(hash=keyed_hash("email", "zqgone@example.org"), kind="email", reason="test")
    Blocked.objects.create(hash=keyed_hash("phone", "+4712345678"), kind="phone", reason="test")
    found = blocked_emails(["zqgone@example.org", "still@example.org", "", "+4712345678"])
    assert found == {"zqgone@example.org"}  # a phone's hash is not an address's
    assert blocked_emails([]) == set() and blocked_emails(["still@example.org"]) == set()
