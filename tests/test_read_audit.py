"""The read audit (crm.audit.reads): exports, subject access and views of encrypted fields are recorded
once each; admins alone read it (API, page, command); nobody changes or deletes it, not even with raw SQL."""

import datetime as dt
import io
import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from crm.audit import reads
from crm.audit.models import ReadEvent
from crm.core import crypto
from crm.core.context import change_context
from crm.customization.services import custom_field_create
from crm.privacy.access import subject_access
from crm.records.models import Company
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from tests.dataio.test_export import csv_rows
from tests.factories import UserFactory

K1 = crypto.new_key()


@pytest.fixture(autouse=True)
def keys(settings):
    settings.ENCRYPTION_KEYS = [K1]
    settings.ENCRYPTION_LOOKUP_KEY = "lookup-key-for-read-audit"
    # force_login's bare request has no client address, which the sign-in lockout's log cannot store on
    # PostgreSQL (an inet column); these tests are about what a signed-in user reads, not signing in.
    settings.AXES_ENABLED = False


@pytest.fixture
def companies(manager, rep_a):
    company_create(actor=rep_a, data={"name": "Acme Corp"})
    company_create(actor=rep_a, data={"name": "Acme Labs"})
    company_create(actor=rep_a, data={"name": "Globex"})


@pytest.fixture
def secret_contact(boss):
    for key, encrypted in (("national_id", True), ("nickname", False)):
        data = {"object_type": "contact", "key": key, "label": key, "field_type": "text", "encrypted": encrypted}
        custom_field_create(actor=boss, data=data)
    data = {"first_name": "Ada", "custom_fields": {"national_id": "NI-1", "nickname": "A"}}
    return contact_create(actor=boss, data=data).obj


def web(user):
    client = Client()
    client.force_login(user)
    return client


# --- what is recorded --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_export_writes_one_event_with_the_count_format_and_filters(api, manager, companies):
    r = api(manager).get("/export/companies", {"format": "csv", "name__contains": "acme"})
    assert r.status_code == 200 and len(csv_rows(r)) == 2
    [event] = ReadEvent.objects.all()
    assert (event.user, event.user_name, event.action, event.object_type) == (manager, "manager", "export", "company")
    assert event.count == 2 and event.source == "api" and event.request_id is not None
    assert event.detail["format"] == "csv" and event.detail["filters"] == {"name__contains": reads.hashed("acme")}


@pytest.mark.django_db
def test_a_vcard_export_is_an_export_too(api, manager, ada_contact):
    assert api(manager).get("/vcard/contacts", {"version": "4.0"}).status_code == 200
    [event] = ReadEvent.objects.all()
    assert (event.action, event.object_type, event.count, event.detail["format"]) == ("export", "contact", 1, "vcard")
    assert event.detail["filters"] == {}


@pytest.fixture
def ada_contact(rep_a):
    return contact_create(actor=rep_a, data={"first_name": "Ada"}).obj


@pytest.mark.django_db
def test_a_web_export_and_a_bulk_export_write_one_event_each(manager, companies):
    r = web(manager).get("/companies/export/", {"name__contains": "acme"})
    assert len(csv_rows(r)) == 2
    [event] = ReadEvent.objects.all()
    assert (event.object_type, event.count, event.source) == ("company", 2, "web")
    assert event.detail["filters"] == {"name__contains": reads.hashed("acme")}

    ids = [str(pk) for pk in Company.objects.filter(name__startswith="Acme").values_list("pk", flat=True)]
    r = web(manager).post("/companies/bulk/", {"action": "export", "ids": ids})
    assert r.status_code == 200
    bulk = ReadEvent.objects.exclude(pk=event.pk).get()
    assert bulk.detail["filters"] == {"ids": ids} and bulk.count == len(csv_rows(r))


@pytest.mark.django_db
def test_the_export_command_records_as_the_cli(manager, companies, tmp_path):
    out = tmp_path / "c.csv"
    call_command(
        "export",
        "companies",
        "--user",
        "manager",
        "--filter",
        "name=Globex",
        "--output",
        str(out),
        stderr=io.StringIO(),
    )
    [event] = ReadEvent.objects.all()
    assert (event.user_name, event.source, event.count, event.detail["filters"]) == (
        "manager",
        "cli",
        1,
        {"name": reads.hashed("Globex")},
    )


@pytest.mark.django_db
def test_export_filters_that_may_name_a_person_are_kept_only_as_keyed_hashes(api, manager, rep_a):
    """The audit is append-only, so an erasure could not scrub a name or email from it afterwards: text
    filter values are hashed when recorded (found again by hashing the value, case-insensitively);
    ids, dates, booleans and choices name nobody and stay readable."""
    contact_create(actor=rep_a, data={"first_name": "Ada", "email": "ada@example.com"})
    params = {
        "format": "csv",
        "email": "Ada@Example.com",
        "name__contains": "Ada",
        "owner": str(rep_a.pk),
        "created_at__gte": "2026-01-01",
        "lifecycle_stage": "lead",
        "email_opt_in": "false",
    }
    assert api(manager).get("/export/contacts", params).status_code == 200
    [event] = ReadEvent.objects.all()
    assert event.detail["filters"] == {
        "email": reads.hashed("ada@example.com"),
        "name__contains": reads.hashed("ada"),
        "owner": str(rep_a.pk),
        "created_at__gte": "2026-01-01",
        "lifecycle_stage": "lead",
        "email_opt_in": "false",
    }
    with connection.cursor() as cur:
        cur.execute("SELECT detail FROM audit_readevent")
        raw = str(cur.fetchall()).lower()
    assert "ada@" not in raw and "example.com" not in raw


@pytest.mark.django_db
def test_a_refused_export_is_not_recorded(api, rep_a, companies):
    assert api(rep_a).get("/export/companies").status_code == 403
    assert not ReadEvent.objects.exists()


@pytest.mark.django_db
def test_viewing_an_encrypted_field_writes_one_event_naming_it(api, boss, secret_contact):
    r = api(boss).get(f"/contacts/{secret_contact.pk}")
    assert r.json()["custom_fields"]["national_id"] == "NI-1"
    [event] = ReadEvent.objects.all()
    assert (event.action, event.object_type, event.object_id) == ("view_sensitive", "contact", secret_contact.pk)
    assert event.detail == {"fields": ["national_id"]}  # the plain field is not sensitive

    page = web(boss).get(f"/contacts/{secret_contact.pk}/")
    assert page.status_code == 200 and b"NI-1" in page.content
    assert ReadEvent.objects.filter(action="view_sensitive", source="web").count() == 1


@pytest.mark.django_db
def test_one_event_per_user_record_and_request(boss, secret_contact, rep_a):
    with change_context(request_id=uuid.uuid4()):
        assert reads.record_sensitive_view(boss, secret_contact) is not None
        assert reads.record_sensitive_view(boss, secret_contact) is None  # the same page reading it twice
        assert reads.record_sensitive_view(rep_a, secret_contact) is not None
    assert ReadEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_record_without_sensitive_values_writes_none(api, boss, rep_a, ada_contact):
    assert api(rep_a).get(f"/contacts/{ada_contact.pk}").status_code == 200
    assert web(rep_a).get(f"/contacts/{ada_contact.pk}/").status_code == 200
    assert not ReadEvent.objects.exists()


@pytest.mark.django_db
def test_a_subject_access_is_recorded(boss, rep_a):
    contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@example.org"})
    subject_access(actor=boss, email="ann@example.org")
    [event] = ReadEvent.objects.all()
    assert (event.action, event.user, event.count) == ("subject_access", boss, 1)
    assert event.detail["access_request"] and event.detail["counts"]["contacts.json"] == 1


# --- reading the audit -------------------------------------------------------------------------------


@pytest.fixture
def events(boss, manager):
    old = reads.record_read(actor=manager, action="export", object_type="deal", count=3)
    reads.record_read(actor=boss, action="subject_access", count=1)
    reads.record_read(
        actor=manager, action="view_sensitive", object_type="contact", object_id=7, detail={"fields": ["x"]}
    )
    return old


@pytest.mark.django_db
def test_only_admins_read_the_audit(api, web_client_for, boss, manager, readonly, events):
    for user in (manager, readonly):
        assert api(user).get("/audit/reads").status_code == 403
        assert web_client_for(user).get("/settings/audit/reads/").status_code == 403
    assert api(boss).get("/audit/reads").status_code == 200
    page = web_client_for(boss).get("/settings/audit/reads/")
    assert page.status_code == 200 and page.content.count(b'class="read-event"') == 3
    assert ReadEvent.objects.count() == 3  # reading the audit is not recorded


@pytest.fixture
def web_client_for(db):
    return web


@pytest.mark.django_db
def test_the_api_filters_and_pages(api, boss, manager, events):
    client = api(boss)

    def ids(**params):
        r = client.get("/audit/reads", params)
        assert r.status_code == 200, r.content
        return [(e["action"], e["user_name"]) for e in r.json()["items"]]

    assert ids() == [("view_sensitive", "manager"), ("subject_access", "boss"), ("export", "manager")]
    assert ids(user="manager", action="export") == [("export", "manager")]
    assert ids(user=str(boss.pk)) == [("subject_access", "boss")]
    assert ids(object_type="contact") == [("view_sensitive", "manager")]
    today = dt.datetime.now(dt.UTC).date()
    assert len(ids(**{"from": str(today), "to": str(today)})) == 3  # a day is the whole day
    assert ids(**{"to": str(today - dt.timedelta(days=1))}) == []
    assert ids(**{"from": str(today + dt.timedelta(days=1))}) == []

    first = client.get("/audit/reads", {"limit": 2}).json()
    second = client.get("/audit/reads", {"limit": 2, "cursor": first["next"]}).json()
    assert [e["action"] for e in first["items"] + second["items"]] == ["view_sensitive", "subject_access", "export"]
    assert second["next"] is None

    for bad in ({"action": "erase"}, {"from": "yesterday"}, {"to": "2026-02-31"}, {"colour": "red"}):
        r = client.get("/audit/reads", bad)
        assert r.status_code == 400, bad
    assert web(boss).get("/settings/audit/reads/", {"from": "nope"}).status_code == 400


@pytest.mark.django_db
def test_the_page_filters(boss, events):
    page = web(boss).get("/settings/audit/reads/", {"action": "export", "user": "manager"})
    assert page.content.count(b'class="read-event"') == 1


@pytest.mark.django_db
def test_the_command_prints_a_table(boss, events):
    boss.is_superuser = True
    boss.save()
    out = io.StringIO()
    call_command("audit", "reads", "--since", "2026-01-01", "--action", "export", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["time", "user", "action", "type", "id", "rows", "detail"]
    assert len(lines) == 2 and "manager" in lines[1] and "deal" in lines[1]


@pytest.mark.django_db
def test_the_command_refuses_a_non_admin(manager, events):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Only admins"):
        call_command("audit", "reads", "--as", "manager", stdout=io.StringIO())


# --- append-only -------------------------------------------------------------------------------------


def _refused(sql, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql, params)


@pytest.mark.django_db
def test_raw_sql_cannot_update_or_delete_an_event(events):
    _refused("UPDATE audit_readevent SET count = 99")
    _refused("UPDATE audit_readevent SET user_name = 'someone else' WHERE id = %s", [events.pk])
    _refused("UPDATE audit_readevent SET user_id = NULL, count = 0")  # the user's way out, misused
    _refused("DELETE FROM audit_readevent WHERE id = %s", [events.pk])
    _refused("DELETE FROM audit_readevent")
    if connection.vendor == "postgresql":  # (pending FK checks of this test's inserts first, or PG refuses sooner)
        _refused("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE audit_readevent")
    assert ReadEvent.objects.filter(pk=events.pk, count=3).exists() and ReadEvent.objects.count() == 3


@pytest.mark.django_db
def test_the_orm_cannot_either(events):
    events.count = 0
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        events.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ReadEvent.objects.all().delete()


@pytest.mark.django_db
def test_another_user_cannot_be_put_on_an_event(events, boss):
    _refused("UPDATE audit_readevent SET user_id = %s WHERE id = %s", [boss.pk, events.pk])


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_events_by_name(events, manager):
    manager.delete()
    event = ReadEvent.objects.get(pk=events.pk)
    assert (event.user_id, event.user_name, event.count) == (None, "manager", 3)


@pytest.mark.django_db
def test_the_admin_site_cannot_change_or_delete(events):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = web(admin)
    assert client.get("/admin/audit/readevent/").status_code == 200
    assert client.post(f"/admin/audit/readevent/{events.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/audit/readevent/add/").status_code == 403
    assert ReadEvent.objects.filter(pk=events.pk).exists()


@pytest.mark.django_db
def test_the_api_has_no_write(api, boss, events):
    assert api(boss).delete(f"/audit/reads/{events.pk}").status_code in (404, 405)
    assert api(boss).post("/audit/reads", {"action": "export"}).status_code == 405
    assert ReadEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transactional_test_with_events_still_flushes(manager):
    """The teardown's flush empties the audit under crm.audit.reads.maintenance(); the flag is gone after."""
    reads.record_read(actor=manager, action="export", object_type="deal", count=1)
    assert ReadEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_maintenance_flag_is_off_after_a_flush(manager):
    event = reads.record_read(actor=manager, action="export", object_type="deal", count=1)
    with pytest.raises(DatabaseError, match="append-only"):
        ReadEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
def test_reading_a_custom_record_with_an_encrypted_field_is_recorded(api, boss):
    from crm.objects import services

    fields = [{"key": "passport", "label": "Passport", "field_type": "text", "encrypted": True}]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    services.object_type_create(actor=boss, data=data)
    client = api(boss)
    created = client.post("/objects/vehicles", {"values": {"name": "Van", "passport": "P-1"}})
    assert created.status_code == 201 and not ReadEvent.objects.exists()  # writing is not reading
    r = client.get(f"/objects/vehicles/{created.json()['id']}")
    assert r.json()["values"]["passport"] == "P-1"
    [event] = ReadEvent.objects.all()
    assert (event.action, event.object_id, event.detail) == (
        "view_sensitive",
        created.json()["id"],
        {"fields": ["passport"]},
    )
    assert event.object_type == "vehicle"


@pytest.mark.django_db
def test_a_field_hidden_from_the_role_is_not_a_sensitive_view(api, boss, readonly, secret_contact):
    from crm.access.services import role_update

    role = readonly.profile.role
    role_update(role, actor=boss, data={"field_access": {"contact": {"cf_national_id": "hidden"}}})
    readonly.refresh_from_db()
    r = api(readonly).get(f"/contacts/{secret_contact.pk}")
    assert r.status_code == 200 and r.json()["custom_fields"]["national_id"] is None
    assert not ReadEvent.objects.exists()
    role_update(role, actor=boss, data={"field_access": {}})
    assert api(readonly).get(f"/contacts/{secret_contact.pk}").json()["custom_fields"]["national_id"] == "NI-1"
    assert ReadEvent.objects.get().user == readonly


def test_admins_find_the_privacy_and_read_audit_pages_in_their_menu(admin_user, rep_a):
    from django.test import Client

    for user, shown in ((admin_user, True), (rep_a, False)):
        client = Client()
        client.force_login(user)
        page = client.get("/").content.decode()
        assert ('href="/settings/privacy/"' in page) is shown
        assert ('href="/settings/audit/reads/"' in page) is shown
