"""The block list holds on updates too: an update that gives a contact, a lead or a custom record (any
type with a ``person`` declaration) an erased person's email or phone is refused with the block list's
message, through the API, the web form, an API bulk call and an updating import. A value the record
already held, or any other value, is not refused."""

import io

import pytest
from django.test import Client

from crm.core.errors import ValidationFailed
from crm.dataio import importing
from crm.dataio.models import ImportRow
from crm.objects import services as object_services
from crm.objects.records import record_create, record_update
from crm.privacy.blocklist import MESSAGE, keyed_hash
from crm.privacy.erasure import erase
from crm.privacy.models import Blocked
from crm.records.models import Contact, Lead
from crm.records.services.contacts import contact_update
from crm.records.services.leads import lead_create, lead_update
from tests.privacy.conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased(boss, ann):
    erase(actor=boss, email=EMAIL)


@pytest.fixture
def carl(boss):
    return lead_create(actor=boss, data={"last_name": "Carl", "email": "carl@example.org"}).obj


def test_api_update_refuses_a_blocked_email_or_phone(api, boss, erased, bob, carl):
    r = api(boss).patch(f"/contacts/{bob.pk}", {"email": "ANN.ERASE@example.org"})
    assert r.status_code == 422 and r.json()["error"]["fields"]["email"] == MESSAGE
    r = api(boss).patch(f"/contacts/{bob.pk}", {"phones": [{"number": "(415) 555-0123"}]})
    assert r.status_code == 422 and r.json()["error"]["fields"]["phone"] == MESSAGE
    r = api(boss).patch(f"/leads/{carl.pk}", {"phone": "+1 415 555 0123"})
    assert r.status_code == 422 and r.json()["error"]["fields"]["phone"] == MESSAGE
    assert not Contact.objects.filter(email=EMAIL).exists() and not Lead.objects.filter(phone=PHONE).exists()
    assert api(boss).patch(f"/contacts/{bob.pk}", {"email": "bob@new.example"}).status_code == 200


def test_api_bulk_update_refuses_the_item(api, boss, erased, bob):
    r = api(boss).post("/contacts/bulk", {"items": [{"id": bob.pk, "email": EMAIL}]})
    assert r.status_code == 422 and MESSAGE in str(r.json()["error"]["fields"])
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"


def test_web_edit_refuses_it(boss, erased, carl):
    client = Client()
    client.force_login(boss)
    r = client.post(
        f"/leads/{carl.pk}/edit/",
        {"last_name": "Carl", "email": EMAIL, "status": "new", "owner": boss.pk, "version": carl.version},
    )
    assert r.status_code == 200 and MESSAGE in r.content.decode()  # the form again, with the error
    carl.refresh_from_db()
    assert carl.email == "carl@example.org"


def test_updating_import_refuses_the_row(boss, erased, bob):
    data = f"Email,Phone\nbob@example.org,{PHONE}\n"
    batch = importing.run(io.BytesIO(data.encode()), actor=boss, object_type="contacts", update_existing=True)
    assert batch.counts["update"] == 0 and batch.counts["error"] == 1
    assert MESSAGE in ImportRow.objects.get(batch=batch).errors.values()
    bob.refresh_from_db()
    assert bob.phone == ""


def block(kind: str, value: str) -> None:
    Blocked.objects.create(hash=keyed_hash(kind, value), kind=kind, reason="test")


def test_values_the_record_already_held_are_not_refused(boss, carl):
    carl = lead_update(carl, actor=boss, data={"phone": PHONE}).obj
    block("phone", PHONE)
    assert lead_update(carl, actor=boss, data={"title": "Buyer", "phone": PHONE}).obj.title == "Buyer"
    carl = lead_update(carl, actor=boss, data={"phone": ""}).obj
    with pytest.raises(ValidationFailed) as exc:  # gone, then set again: new to the record
        lead_update(carl, actor=boss, data={"phone": PHONE})
    assert exc.value.fields == {"phone": MESSAGE}


def test_custom_record_update_refuses_it(boss, erased):
    fields = [{"key": "badge_email", "label": "Email", "field_type": "email"}]
    data = {"key": "member", "singular": "Member", "plural": "Members", "slug": "members", "fields": fields}
    kind = object_services.object_type_create(actor=boss, data=data)
    member = record_create(actor=boss, object_type=kind, data={"name": "A", "badge_email": "a@example.org"}).obj
    with pytest.raises(ValidationFailed) as exc:
        record_update(member, actor=boss, data={"badge_email": EMAIL})
    assert exc.value.fields == {"email": MESSAGE}
    assert record_update(member, actor=boss, data={"name": "B"}).obj.name == "B"


def test_contact_keeps_its_own_values_through_an_update(boss, bob):
    block("email", "bob@example.org")
    assert contact_update(bob, actor=boss, data={"title": "CEO"}).obj.title == "CEO"
    assert contact_update(bob, actor=boss, data={"emails": [{"email": "bob@example.org"}]}).obj.pk
