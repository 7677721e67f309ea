"""Backups of encrypted values: the file holds ciphertext only; `crm restore` checks that the configured
keys decrypt what it restored, and names the missing key when they do not."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from crm.core import crypto
from crm.customization.services import custom_field_create
from crm.records.services.contacts import contact_create
from tests.ops.test_backup import fresh_database  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = "IBAN-DE-SECRET-0042"
K1, K2 = crypto.new_key(), crypto.new_key()
LOOKUP = "backup lookup key"


@pytest.fixture
def secret_contact(settings, boss):
    settings.ENCRYPTION_KEYS, settings.ENCRYPTION_LOOKUP_KEY = [K1], LOOKUP
    data = {"object_type": "contact", "key": "iban", "label": "IBAN", "field_type": "text", "encrypted": True}
    custom_field_create(actor=boss, data=data)
    return contact_create(actor=boss, data={"first_name": "Eve", "custom_fields": {"iban": SECRET}}).obj


def _crm(*args, url: str, keys: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "ENCRYPTION_KEYS": keys, "ENCRYPTION_LOOKUP_KEY": LOOKUP}
    return subprocess.run([sys.executable, "-m", "crm", *args], env=env, capture_output=True, text=True, timeout=120)


def _backup_text(file) -> bytes:
    """What the backup holds, uncompressed: pg_dump's custom format compresses table data."""
    if connection.vendor == "sqlite":
        return file.read_bytes()
    return subprocess.run(["pg_restore", "--file=-", str(file)], capture_output=True, check=True).stdout


def test_backup_holds_ciphertext_and_restore_checks_the_key(secret_contact, tmp_path, fresh_database):  # noqa: F811
    url, connect = fresh_database
    file = tmp_path / "crm.backup"
    call_command("backup", str(file))
    held = _backup_text(file)
    assert SECRET.encode() not in held
    assert f"enc1:{crypto.kid_of(K1)}:".encode() in held  # the value is there, encrypted

    wrong = _crm("restore", str(file), "--yes", url=url, keys=K2)
    assert wrong.returncode != 0
    assert f"restored data is encrypted with key {crypto.kid_of(K1)}, which is not in ENCRYPTION_KEYS" in wrong.stderr

    right = _crm("restore", str(file), "--yes", url=url, keys=f"{K2},{K1}")
    assert right.returncode == 0, right.stderr
    assert f"decrypt with the configured keys ({crypto.kid_of(K1)})" in right.stdout
    with connect() as conn:
        (stored,) = conn.execute("SELECT custom_fields FROM records_contact").fetchone()
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert crypto.KeySet((K1,), LOOKUP).open(stored["iban"]["c"]) == SECRET

