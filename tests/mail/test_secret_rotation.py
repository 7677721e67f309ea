"""`crm encryption rotate` moves the secrets models hold themselves (mailbox passwords, users' SMTP
passwords) to the current key, keeps a password changed during the pass, and `status` counts them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from crm.core import crypto
from crm.customization import rotation
from crm.mail.models import SmtpAccount
from crm.mailbox.models import Mailbox

pytestmark = pytest.mark.django_db
K1, K2 = crypto.new_key(), crypto.new_key()


@pytest.fixture(autouse=True)
def keys(settings):
    settings.ENCRYPTION_KEYS = [K1]
    return settings


def raw(table: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT password FROM {table} WHERE id = %s", [pk])  # noqa: S608 (a fixed table name)
        return cur.fetchone()[0]


@pytest.fixture
def secrets(rep_a):
    box = Mailbox.objects.create(name="Inbox", owner=rep_a, host="imap.example.com", username="a", password="imap-pw")
    smtp = SmtpAccount.objects.create(user=rep_a, host="smtp.example.com", username="a", password="smtp-pw")
    return box, smtp


def test_rotation_moves_mailbox_and_smtp_passwords_to_the_new_key(keys, secrets):
    box, smtp = secrets
    assert crypto.split(raw("mailbox_mailbox", box.pk))[0] == crypto.kid_of(K1)
    keys.ENCRYPTION_KEYS = [K2, K1]
    out = StringIO()
    call_command("encryption", "status", stdout=out)
    assert f"key {crypto.kid_of(K1)} / no lookup hash (passwords): 2 values" in out.getvalue()
    result = rotation.rotate()
    assert result["rewritten"] == 2 and result["left"] == 0
    for table, pk in (("mailbox_mailbox", box.pk), ("mail_smtpaccount", smtp.pk)):
        assert crypto.split(raw(table, pk))[0] == crypto.kid_of(K2)
    keys.ENCRYPTION_KEYS = [K2]  # the old key can go now
    assert Mailbox.objects.get(pk=box.pk).password == "imap-pw"
    assert SmtpAccount.objects.get(pk=smtp.pk).password == "smtp-pw"
    assert rotation.sample_per_key().keys() == {crypto.kid_of(K2)}
    out = StringIO()
    call_command("encryption", "status", stdout=out)
    assert crypto.kid_of(K1) + " /" not in out.getvalue()


def test_a_password_changed_during_the_pass_is_kept(keys, secrets, monkeypatch):
    box, _ = secrets
    keys.ENCRYPTION_KEYS = [K2, K1]
    keyset = crypto.keyset()
    real_open = keyset.open

    def open_then_user_saves(sealed):
        plain = real_open(sealed)
        if plain == "imap-pw":  # the owner enters a new password between the read and the write
            Mailbox.objects.filter(pk=box.pk).update(password="new-imap-pw")
        return plain

    monkeypatch.setattr(keyset, "open", open_then_user_saves)
    rewritten, skipped = rotation.rotate_sealed_pass(keyset)
    assert (rewritten, skipped) == (1, 1)
    monkeypatch.undo()
    assert Mailbox.objects.get(pk=box.pk).password == "new-imap-pw"  # not overwritten with the old one
    assert rotation.rotate(keyset)["left"] == 0
