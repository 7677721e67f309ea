"""Encryption at rest: keys and ciphertexts (crm.core.crypto), encrypted custom fields on a built-in type
(stored as ciphertext, decrypted for output, found by equality through the keyed hash, never searched,
sorted or change-logged in clear), and key rotation while another thread keeps writing."""

import json
import threading
import time

import pytest
from django.db import OperationalError, connection

from crm.audit.models import ObjectChange
from crm.core import crypto
from crm.core.errors import ValidationFailed
from crm.core.fields import EncryptedTextField
from crm.customization import rotation
from crm.customization.services import custom_field_create, custom_field_update
from crm.records.models import Contact
from crm.records.services.contacts import contact_create, contact_update
from tests.dataio.test_export import csv_rows

SECRET = "NI-4411-SECRET-77"
K1, K2 = crypto.new_key(), crypto.new_key()
LOOKUP = "lookup-key-for-tests"


@pytest.fixture(autouse=True)
def keys(settings):
    settings.ENCRYPTION_KEYS = [K1]
    settings.ENCRYPTION_LOOKUP_KEY = LOOKUP
    return settings


def raw_custom_fields(pk) -> str:
    """The column as the database holds it, bypassing every decoder."""
    with connection.cursor() as cur:
        cur.execute("SELECT custom_fields FROM records_contact WHERE id = %s", [pk])
        value = cur.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


# --- crypto ----------------------------------------------------------------------------------------


def test_round_trip_names_the_key_and_differs_each_time():
    keys = crypto.KeySet((K1,), LOOKUP)
    a, b = keys.seal(SECRET), keys.seal(SECRET)
    assert a != b and SECRET not in a
    assert a.startswith(f"enc1:{crypto.kid_of(K1)}:")
    assert keys.open(a) == SECRET
    assert keys.lookup_hash(SECRET) == keys.lookup_hash(SECRET.lower())  # equality ignores case, as text filters do


def test_a_missing_key_is_named_and_a_tampered_value_refused():
    sealed = crypto.KeySet((K1,), LOOKUP).seal(SECRET)
    other = crypto.KeySet((K2,), LOOKUP)
    with pytest.raises(crypto.KeyMissing, match=crypto.kid_of(K1)):
        other.open(sealed)
    kid, token = crypto.split(sealed)
    forged = f"enc1:{kid}:{token[:-6]}AAAAAA"
    with pytest.raises(crypto.Undecryptable):
        crypto.KeySet((K1,), LOOKUP).open(forged)
    with pytest.raises(ValueError, match="new-key"):
        crypto.KeySet(("not a key",), LOOKUP)


def test_keys_are_generated_once_into_var_with_owner_only_access(tmp_path, monkeypatch):
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    first = crypto.load_keys(tmp_path)
    assert crypto.load_keys(tmp_path) == first and len(first) == 1
    assert (tmp_path / "encryption_keys").stat().st_mode & 0o777 == 0o600
    added = crypto.add_key_to_file(tmp_path)
    assert crypto.load_keys(tmp_path) == [added, *first]  # the new key first, the old one kept
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{K2}, {K1}")
    assert crypto.load_keys(tmp_path) == [K2, K1]


def test_encrypted_text_field_stores_ciphertext_and_reads_plain():
    field = EncryptedTextField()
    stored = field.get_prep_value(SECRET)
    assert crypto.is_sealed(stored) and SECRET not in stored
    again = field.get_prep_value(stored)  # text that looks sealed is still sealed: the attribute is plain
    assert crypto.open_sealed(again) == stored
    assert field.from_db_value(stored, None, connection) == SECRET
    assert field.get_prep_value("") == "" and field.from_db_value(None, None, connection) is None


# --- encrypted custom fields on contacts ---------------------------------------------------------------


@pytest.fixture
def national_id(boss):
    data = {"object_type": "contact", "key": "national_id", "label": "National ID", "field_type": "text"}
    return custom_field_create(actor=boss, data={**data, "encrypted": True})


@pytest.fixture
def secret_contact(national_id, boss):
    data = {"first_name": "Ada", "last_name": "Byron", "custom_fields": {"national_id": SECRET}}
    return contact_create(actor=boss, data=data).obj


@pytest.mark.django_db
def test_stored_as_ciphertext_and_decrypted_by_the_api(api, boss, secret_contact):
    assert SECRET not in raw_custom_fields(secret_contact.pk)
    assert crypto.kid_of(K1) in raw_custom_fields(secret_contact.pk)
    body = api(boss).get(f"/contacts/{secret_contact.pk}").json()
    assert body["custom_fields"]["national_id"] == SECRET


@pytest.mark.django_db
def test_equality_filter_uses_the_keyed_hash_and_other_operators_are_refused(api, boss, secret_contact):
    contact_create(actor=boss, data={"first_name": "Bo", "custom_fields": {"national_id": "OTHER"}})
    found = api(boss).get("/contacts", {"cf_national_id": SECRET.lower()}).json()["items"]
    assert [c["id"] for c in found] == [secret_contact.pk]
    assert api(boss).get("/contacts", {"cf_national_id": "nope"}).json()["items"] == []
    r = api(boss).get("/contacts", {"cf_national_id__contains": "SECRET"})
    assert r.status_code == 400 and "equality" in r.json()["error"]["fields"]["cf_national_id__contains"]
    r = api(boss).get("/contacts", {"sort": "cf_national_id"})
    assert r.status_code == 400 and "Encrypted" in r.json()["error"]["fields"]["sort"]


@pytest.mark.django_db
def test_change_log_and_search_never_hold_the_plain_value(api, boss, secret_contact):
    contact_update(secret_contact, actor=boss, data={"custom_fields": {"national_id": "NEW-VALUE-9"}})
    logged = json.dumps(list(ObjectChange.objects.filter(object_type="contact").values_list("changes", flat=True)))
    assert SECRET not in logged and "NEW-VALUE-9" not in logged and "enc1:" in logged
    assert api(boss).get("/contacts", {"q": "NEW-VALUE-9"}).json()["items"] == []
    from crm.search.query import search

    assert not search(boss, "NEW-VALUE-9").get("contact")


@pytest.mark.django_db
def test_export_decrypts_for_a_user_allowed_to_export(api, boss, secret_contact):
    rows = csv_rows(api(boss).get("/export/contacts", {"format": "csv"}))
    assert [r["cf_national_id"] for r in rows] == [SECRET]


@pytest.mark.django_db
def test_only_text_like_fields_may_be_encrypted_and_never_searchable(boss):
    base = {"object_type": "contact", "label": "X", "encrypted": True}
    with pytest.raises(ValidationFailed) as exc:
        custom_field_create(actor=boss, data={**base, "key": "score", "field_type": "integer"})
    assert "cannot be encrypted" in exc.value.fields["encrypted"]
    with pytest.raises(ValidationFailed) as exc:
        custom_field_create(actor=boss, data={**base, "key": "note", "field_type": "text", "searchable": True})
    assert "searchable" in exc.value.fields


@pytest.mark.django_db
def test_turning_the_flag_on_and_off_converts_stored_values(api, boss):
    field = custom_field_create(
        actor=boss, data={"object_type": "contact", "key": "iban", "label": "IBAN", "field_type": "text"}
    )
    contact = contact_create(actor=boss, data={"first_name": "C", "custom_fields": {"iban": "DE44 5001"}}).obj
    assert "DE44 5001" in raw_custom_fields(contact.pk)
    field = custom_field_update(field, actor=boss, data={"encrypted": True})
    assert "DE44 5001" not in raw_custom_fields(contact.pk)
    assert api(boss).get(f"/contacts/{contact.pk}").json()["custom_fields"]["iban"] == "DE44 5001"
    custom_field_update(field, actor=boss, data={"encrypted": False})
    assert Contact.objects.get(pk=contact.pk).custom_fields["iban"] == "DE44 5001"


# --- rotation ----------------------------------------------------------------------------------------


def _all_values_open_with(keys: crypto.KeySet) -> int:
    opened = 0
    for values in Contact.objects.values_list("custom_fields", flat=True):
        for key in ("national_id", "iban"):
            if key in (values or {}):
                assert keys.open(values[key]["c"])  # raises KeyMissing on a value left on a dropped key
                assert values[key]["h"].startswith(keys.lookup_kid + ":")
                opened += 1
    return opened


def _rotate_retrying_locks() -> dict:
    """The rotation is idempotent, so the job is simply run again; only the test's in-memory SQLite
    (shared cache) reports a lock instead of waiting for it as a file database does."""
    for _ in range(2000):
        try:
            return rotation.rotate()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)  # let the writer finish its write (a busy machine can keep it in one for a while)
    raise AssertionError("the rotation never got past the writer's locks")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as every transactional test here
def test_rotation_while_another_thread_writes_leaves_no_value_on_the_old_key(keys, boss):
    for key in ("national_id", "iban"):
        data = {"object_type": "contact", "key": key, "label": key, "field_type": "text", "encrypted": True}
        custom_field_create(actor=boss, data=data)
    contacts = [
        contact_create(
            actor=boss, data={"first_name": f"P{i}", "custom_fields": {"national_id": f"N{i}", "iban": f"I{i}"}}
        ).obj
        for i in range(60)
    ]
    keys.ENCRYPTION_KEYS = [K2, K1]  # the operator's new key first; the lookup key rotates too
    keys.ENCRYPTION_LOOKUP_KEY = "a new lookup key"
    stop, writes, errors = threading.Event(), [0], []

    def writer():
        try:
            n = 0
            while not stop.is_set() or n < 20:
                try:
                    contact = Contact.objects.get(pk=contacts[n % len(contacts)].pk)
                    contact_update(contact, actor=boss, data={"custom_fields": {"national_id": f"W{n}"}})
                except OperationalError as exc:  # the test's in-memory SQLite locks tables instead of waiting
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.002)
                    continue
                n += 1
                time.sleep(0.001)  # a writer that never pauses would starve the rotation of the shared cache
            writes[0] = n
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = _rotate_retrying_locks()
    finally:
        stop.set()
        thread.join()
    assert not errors and writes[0] >= 20
    assert result["left"] == 0
    new_only = crypto.KeySet((K2,), "a new lookup key")  # the old key dropped
    assert _all_values_open_with(new_only) == 120
    assert sum(rotation.status().values()) == 120 and set(rotation.status()) == {
        (new_only.current, new_only.lookup_kid)
    }
    keys.ENCRYPTION_KEYS = [K2]
    assert len(Contact.objects.filter(custom_fields__national_id__h=new_only.lookup_hash("N1"))) <= 1


@pytest.mark.django_db
def test_a_value_under_a_missing_key_reads_as_missing_not_a_server_error(api, boss, secret_contact, keys):
    keys.ENCRYPTION_KEYS = [K2]  # K1, which sealed the value, is gone
    r = api(boss).get(f"/contacts/{secret_contact.pk}")
    assert r.status_code == 200
    assert r.json()["custom_fields"]["national_id"] == f"(encrypted: key {crypto.kid_of(K1)} missing)"
    assert api(boss).get("/contacts").status_code == 200


@pytest.mark.django_db
def test_rotate_command_enqueues_a_job_and_status_counts_per_key(boss, secret_contact, keys):
    from io import StringIO

    from django.core.management import call_command

    from crm.automation import jobs
    from crm.automation.models import Job

    keys.ENCRYPTION_KEYS = [K2, K1]
    out = StringIO()
    call_command("encryption", "status", stdout=out)
    assert f"key {crypto.kid_of(K1)} / lookup {crypto.kid_of(LOOKUP)}: 1 values" in out.getvalue()
    call_command("encryption", "rotate", stdout=StringIO())
    job = Job.objects.get(kind=rotation.JOB_KIND)
    assert jobs.run(job.pk) == "done"
    out = StringIO()
    call_command("encryption", "status", stdout=out)
    assert f"key {crypto.kid_of(K2)} / lookup {crypto.kid_of(LOOKUP)}: 1 values" in out.getvalue()
    assert crypto.kid_of(K1) + " /" not in out.getvalue()
