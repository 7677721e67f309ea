"""Uploads waiting to be imported (an import wizard's file, a queued import) that hold a person:
subject access lists their rows, erasure deletes the files and fails the imports waiting on them,
and a person found only there can be looked up and erased too. Other uploads are left alone."""

import io
import json
import zipfile

import pytest
from django.db import transaction

from crm.core.errors import NotFound
from crm.dataio import background
from crm.dataio.models import BatchStatus, ImportBatch
from crm.privacy import uploads
from crm.privacy.access import subject_access
from crm.privacy.erasure import erase
from tests.privacy.conftest import EMAIL, PHONE
from tests.test_hardening import xlsx_bytes

pytestmark = pytest.mark.django_db


def stored(text: str) -> str:
    return background.store(io.BytesIO(text.encode()))


def queued(boss, text: str) -> ImportBatch:
    return background.queue(
        io.BytesIO(text.encode()),
        actor=boss,
        object_type="contacts",
        file_name="people.csv",
        columns=None,
        update_existing=False,
    )


def unzip(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: json.loads(archive.read(n)) for n in archive.namelist() if n.endswith(".json")}


def test_subject_access_lists_the_rows_of_pending_uploads(boss, ann):
    wizard = stored("First name,Phone\nZed,+1 999 555 0100\nAnn,(415) 555-0123\n")
    batch = queued(boss, f"First name,Email\nAnn,{EMAIL.upper()}\n")
    other = stored("First name,Email\nBob,bob@example.org\n")
    found = {u["upload"]: u for u in unzip(subject_access(actor=boss, email=EMAIL))["imports.json"]}
    assert set(found) == {wizard, batch.stored_file}
    assert found[wizard]["rows"] == [{"line": 3, "cells": {"First name": "Ann", "Phone": "(415) 555-0123"}}]
    assert found[wizard]["batches"] == []
    assert [b["id"] for b in found[batch.stored_file]["batches"]] == [batch.pk]
    assert other not in found


def test_erasure_deletes_them_and_fails_the_waiting_import(boss, ann, django_capture_on_commit_callbacks):
    wizard = stored(f"Phone\n{PHONE}\n")
    batch = queued(boss, f"First name,Email\nAnn,{EMAIL}\nCarl,carl@example.org\n")
    name = batch.stored_file
    other = stored("First name,Email\nBob,bob@example.org\n")
    with django_capture_on_commit_callbacks(execute=True):
        report = erase(actor=boss, email=EMAIL)
    assert report.counts["uploads_deleted"] == 2 and report.counts["imports_cancelled"] == 1
    assert not background.path_of(wizard).exists() and not background.path_of(name).exists()
    assert background.path_of(other).exists()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and batch.message == uploads.CANCELLED and batch.stored_file == ""


def test_a_person_only_in_an_upload_is_found_and_erased(boss, django_capture_on_commit_callbacks):
    name = background.store(io.BytesIO(xlsx_bytes()))  # Email, Name / ann@x.example, Ann Lee
    files = unzip(subject_access(actor=boss, email="Ann@X.example"))
    assert files["person.json"]["records"] == []
    assert files["imports.json"][0]["rows"][0]["cells"] == {"Email": "ann@x.example", "Name": "Ann Lee"}
    with django_capture_on_commit_callbacks(execute=True):
        assert erase(actor=boss, email="ann@x.example").counts["uploads_deleted"] == 1
    assert not background.path_of(name).exists()
    with pytest.raises(NotFound):
        subject_access(actor=boss, email="ann@x.example")


def test_a_rolled_back_erasure_keeps_the_uploads(boss, ann, django_capture_on_commit_callbacks):
    name = stored(f"Email\n{EMAIL}\n")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            erase(actor=boss, email=EMAIL)
            raise RuntimeError("something after the erasure failed")
    assert background.path_of(name).exists()
