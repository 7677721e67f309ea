"""Erasure: the person's records, timeline, change-log values, search entries, webhook payloads and
import rows are gone; the log keeps counts and keyed hashes only; unknown people are a clear error."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from crm.audit.models import ObjectChange
from crm.automation.models import WebhookDelivery, WebhookSubscription
from crm.core.errors import NotFound, PermissionDenied
from crm.dataio import importing
from crm.dataio.models import ImportRow
from crm.objects import services as object_services
from crm.objects.models import CustomRecord
from crm.objects.records import record_create
from crm.privacy.erasure import erase
from crm.privacy.models import AccessRequest, Blocked, ErasureLog
from crm.records.models import Activity, Contact, Lead, Task
from crm.records.services.activities import activity_create
from tests.privacy.conftest import EMAIL, OTHER_EMAIL, PHONE

pytestmark = pytest.mark.django_db


def test_erasure_deletes_records_and_timeline_and_scrubs_the_change_log(boss, ann, ann_lead, bob):
    shared = activity_create(
        actor=boss,
        data={
            "kind": "meeting",
            "subject": "Ann and Bob",
            "links": [{"type": "contact", "id": ann.pk}, {"type": "contact", "id": bob.pk}],
        },
    ).obj
    report = erase(actor=boss, email=EMAIL)
    assert not Contact.objects.filter(pk=ann.pk).exists() and not Lead.objects.filter(pk=ann_lead.pk).exists()
    assert Contact.objects.filter(pk=bob.pk).exists()
    assert not Task.objects.exists()  # only about Ann
    assert list(Activity.objects.all()) == [shared]  # also about Bob: kept, without Ann's link
    assert [lk.key for lk in shared.links.all()] == [f"contact:{bob.pk}"]
    assert report.counts["contact"] == 1 and report.counts["lead"] == 1
    assert report.counts["activity"] == 1 and report.counts["task"] == 1
    entries = ObjectChange.objects.filter(object_type="contact", object_id=ann.pk)
    assert {e.action for e in entries} == {"create", "update", "delete"}  # the facts stay
    text = json.dumps([[e.changes, e.object_repr] for e in entries])
    assert "Ann" not in text and EMAIL not in text and PHONE not in text and "[erased]" in text
    lead_log = json.dumps(list(ObjectChange.objects.filter(object_type="lead").values("changes", "object_repr")))
    assert OTHER_EMAIL not in lead_log
    assert report.blocked == 3  # two emails, one phone
    assert Blocked.objects.count() == 3


def test_the_api_search_no_longer_finds_them(api, boss, ann):
    assert api(boss).get("/search", {"q": "Erase"}).json().get("contact")
    erase(actor=boss, email=EMAIL)
    r = api(boss).get("/search", {"q": "Erase"})
    assert r.status_code == 200 and not r.json().get("contact")
    assert not api(boss).get("/search", {"q": "4155550123"}).json().get("contact")


def test_webhook_deliveries_are_cancelled_and_scrubbed(boss, django_capture_on_commit_callbacks):
    from crm.records.services.contacts import contact_create

    WebhookSubscription.objects.create(name="sync", url="https://hooks.example.com/in")
    with django_capture_on_commit_callbacks(execute=True):
        contact = contact_create(actor=boss, data={"first_name": "Ann", "email": EMAIL}).obj
    queued = WebhookDelivery.objects.get()
    assert queued.status == "pending" and EMAIL in json.dumps(queued.payload)
    with django_capture_on_commit_callbacks(execute=True):
        erase(actor=boss, email=EMAIL)
    queued.refresh_from_db()
    assert queued.status == "failed" and "erased" in queued.error
    deleted = WebhookDelivery.objects.get(event_type="record.deleted")
    assert deleted.status == "pending" and deleted.payload["object_id"] == contact.pk  # the receiver learns
    for delivery in WebhookDelivery.objects.all():
        assert EMAIL not in json.dumps(delivery.payload) and "Ann" not in json.dumps(delivery.payload)


def test_import_rows_naming_them_are_scrubbed(boss):
    data = f"First name,Email,Phone\nAnn,{EMAIL},+14155550123\nZed,not-an-email {EMAIL},\n"
    batch = importing.run(io.BytesIO(data.encode()), actor=boss, object_type="contacts")
    assert batch.counts["create"] == 1 and batch.counts["error"] == 1
    assert any(EMAIL in json.dumps(r.values) for r in ImportRow.objects.filter(batch=batch))
    report = erase(actor=boss, email=EMAIL)
    assert report.counts["import_rows_scrubbed"] >= 1
    for row in ImportRow.objects.filter(batch=batch):
        assert EMAIL not in json.dumps([row.values, row.before, row.errors, row.warnings])


def test_a_custom_object_type_with_an_email_field_is_erased(boss):
    fields = [{"key": "badge_email", "label": "Email", "field_type": "email"}]
    data = {"key": "member", "singular": "Member", "plural": "Members", "slug": "members", "fields": fields}
    kind = object_services.object_type_create(actor=boss, data=data)
    member = record_create(actor=boss, object_type=kind, data={"name": "Ann M", "badge_email": EMAIL}).obj
    report = erase(actor=boss, email=EMAIL)
    assert report.counts == report.counts | {"member": 1}
    assert not CustomRecord.objects.filter(pk=member.pk).exists()
    assert EMAIL not in json.dumps(list(ObjectChange.objects.filter(object_type="member").values("changes")))


def test_the_erasure_log_holds_no_plain_identifier(boss, ann):
    erase(actor=boss, email=EMAIL)
    entry = ErasureLog.objects.get()
    assert entry.user == boss and entry.counts["contact"] == 1 and len(entry.subject_hashes) == 3
    table = ErasureLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # every column, as stored
        rows = cursor.fetchall()
    stored = json.dumps(rows, default=str)
    for plain in (EMAIL, OTHER_EMAIL, PHONE, PHONE.lstrip("+"), "Ann", "Erase"):
        assert plain not in stored
    assert EMAIL not in json.dumps(
        list(ObjectChange.objects.filter(object_type="privacy_erasure").values()), default=str
    )


def test_unknown_person_is_a_clear_error_and_nothing_is_written(boss, bob, caplog):
    caplog.set_level("INFO", logger="crm.privacy")
    before = ObjectChange.objects.count()
    with pytest.raises(NotFound, match="Nobody with that email is in the CRM."):
        erase(actor=boss, email="nobody@example.org")
    with pytest.raises(NotFound, match="Nobody with that phone number is in the CRM."):
        erase(actor=boss, phone="+14155559999")
    assert not ErasureLog.objects.exists() and not Blocked.objects.exists() and not AccessRequest.objects.exists()
    assert ObjectChange.objects.count() == before and Contact.objects.filter(pk=bob.pk).exists()
    assert "nobody matched" in caplog.text


def test_api_erasure_admin_only(api, boss, rep_a, ann):
    r = api(rep_a).post("/privacy/erasures", {"email": EMAIL})
    assert r.status_code == 403 and Contact.objects.filter(pk=ann.pk).exists()
    r = api(boss).post("/privacy/erasures", {"email": "nobody@example.org"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Nobody with that email is in the CRM."
    r = api(boss).post("/privacy/erasures", {})
    assert r.status_code == 400
    r = api(boss).post("/privacy/erasures", {"email": EMAIL})
    assert r.status_code == 201, r.content
    assert r.json()["counts"]["contact"] == 1 and r.json()["blocked"] == 3
    assert not Contact.objects.filter(pk=ann.pk).exists()


def test_non_admin_service_call_is_refused(rep_a, ann):
    with pytest.raises(PermissionDenied):
        erase(actor=rep_a, email=EMAIL)
    assert Contact.objects.filter(pk=ann.pk).exists()


def test_web_page_erases_after_confirmation(boss, ann):
    client = Client()
    client.force_login(boss)
    r = client.post("/settings/privacy/", {"email": EMAIL, "action": "erase"})
    assert r.status_code == 422 and Contact.objects.filter(pk=ann.pk).exists()
    r = client.post("/settings/privacy/", {"email": EMAIL, "action": "erase", "confirm": "yes"})
    assert r.status_code == 302 and not Contact.objects.filter(pk=ann.pk).exists()


def test_cli_erase_needs_yes(boss, ann):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--yes"):
        call_command("privacy", "erase", "--email", EMAIL, "--user", "boss")
    assert Contact.objects.filter(pk=ann.pk).exists()
    with pytest.raises(CommandError, match="Nobody with that email"):
        call_command("privacy", "erase", "--email", "nobody@example.org", "--yes", "--user", "boss")
    call_command("privacy", "erase", "--email", EMAIL, "--yes", "--user", "boss")
    assert not Contact.objects.filter(pk=ann.pk).exists()


def test_a_shared_phone_does_not_make_colleagues_the_same_person(boss, ann):
    from crm.records.services.contacts import contact_create

    colleague = contact_create(actor=boss, data={"first_name": "Cleo", "phone": PHONE, "email": "cleo@example.org"}).obj
    erase(actor=boss, email=EMAIL)
    assert Contact.objects.filter(pk=colleague.pk).exists() and not Contact.objects.filter(pk=ann.pk).exists()


def test_by_record_and_in_an_archived_custom_type(boss):
    fields = [{"key": "badge_email", "label": "Email", "field_type": "email"}]
    data = {"key": "member", "singular": "Member", "plural": "Members", "slug": "members", "fields": fields}
    kind = object_services.object_type_create(actor=boss, data=data)
    member = record_create(actor=boss, object_type=kind, data={"name": "Ann M", "badge_email": EMAIL}).obj
    object_services.object_type_update(kind, actor=boss, data={"archived": True})  # its records are read-only
    report = erase(actor=boss, record=("members", member.pk))  # the law does not wait for an unarchive
    assert report.counts["member"] == 1 and not CustomRecord.objects.filter(pk=member.pk).exists()
    assert EMAIL not in json.dumps(list(ObjectChange.objects.filter(object_type="member").values("changes")))


def test_erasure_removes_the_person_from_the_bounce_list(boss, ann, bob):
    from crm.mail.models import BouncedAddress

    BouncedAddress.objects.create(email=EMAIL, status="5.1.1", diagnostic="550 User unknown")
    BouncedAddress.objects.create(email="someone@else.example", status="5.1.1")
    report = erase(actor=boss, email=EMAIL)
    assert report.counts["bounces_erased"] == 1
    assert list(BouncedAddress.objects.values_list("email", flat=True)) == ["someone@else.example"]
