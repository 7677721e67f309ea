"""Imports written chunk by chunk: progress, a failure part way reverted, a queued batch run by a
worker (and run again after a crash), matching on an external id, undo across chunks."""

import io

import openpyxl
import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import BadRequest, PermissionDenied, ValidationFailed
from crm.customization.models import CustomField
from crm.dataio import batches, csvread, importing, pragmas
from crm.dataio.importers.contacts import ContactImporter
from crm.dataio.models import ImportBatch, ImportRow
from crm.records.models import Contact
from crm.records.services.contacts import contact_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 3)


def people(n: int, start: int = 0) -> str:
    return "email,first name\n" + "".join(f"p{i}@x.com,P{i}\n" for i in range(start, start + n))


def run(user, text: str | bytes, **kw):
    data = text.encode() if isinstance(text, str) else text
    return importing.run(io.BytesIO(data), actor=user, **kw)


def test_progress_is_reported_per_chunk_and_kept_on_the_batch(manager):
    calls = []
    batch = run(manager, people(8), progress=lambda rows, fraction: calls.append((rows, fraction)))
    assert [rows for rows, _ in calls] == [3, 6, 8]
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    batch.refresh_from_db()
    assert (batch.processed, batch.position, batch.size) == (8, batch.size, len(people(8).encode()))
    assert batch.counts == {
        "create": 8,
        "update": 0,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert ImportRow.objects.filter(batch=batch).count() == 8


def test_xlsx_progress_counts_sheet_rows(manager):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["email", "first name"])
    for i in range(5):
        sheet.append([f"x{i}@x.com", f"X{i}"])
    data = io.BytesIO()
    book.save(data)
    calls = []
    run(manager, data.getvalue(), progress=lambda rows, fraction: calls.append((rows, fraction)))
    assert calls == [(3, 4 / 6), (5, 1.0)]


def test_a_file_error_part_way_reverts_the_chunks_already_written(manager):
    # Line 9 holds a cell past the size limit: the reader fails there, after two chunks were committed.
    with pytest.raises(csvread.FileError, match="larger than"):
        run(manager, people(7) + "big@x.com," + "x" * (csvread.MAX_CELL + 1) + "\n")
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and batch.message
    assert not Contact.objects.exists()
    # What was written and reverted stays accountable in the change log.
    assert ObjectChange.objects.filter(object_type="contact", action="create").count() == 6
    assert ObjectChange.objects.filter(object_type="contact", action="delete").count() == 6
    with pytest.raises(BadRequest, match="failed"):
        importing.undo(batch, actor=manager)


def test_a_crash_in_a_chunk_reverts_and_marks_the_batch_failed(manager, monkeypatch):
    real = ContactImporter.outcomes
    seen = []

    def flaky(self, chunk):
        seen.append(len(chunk))
        if len(seen) == 2:
            raise RuntimeError("disk full")
        return real(self, chunk)

    monkeypatch.setattr(ContactImporter, "outcomes", flaky)
    with pytest.raises(RuntimeError):
        run(manager, people(8))
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.message) == ("failed", "The import stopped: RuntimeError.")
    assert not Contact.objects.exists()


def test_dry_run_in_chunks_writes_nothing_and_counts_everything(manager):
    batch = run(manager, people(7) + "p1@x.com,Again\n", dry_run=True)
    assert batch.counts == {
        "create": 7,
        "update": 0,
        "skip": 0,
        "error": 1,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert not Contact.objects.exists()
    assert batch.rows.get().errors == {"email": "Same email as line 3 of this file."}


def queued(user, **kw) -> ImportBatch:
    fields = {
        "object_type": "contacts",
        "mapping": {"email": "email", "first name": "first_name"},
        "file_name": "p.csv",
    }
    return ImportBatch.objects.create(status="queued", created_by=user, **{**fields, **kw})


def test_a_queued_batch_runs_with_its_own_settings_once(manager):
    batch = queued(manager, mapping={"email": "email", "first name": ""})
    done = importing.run(io.BytesIO(people(4).encode()), actor=manager, batch=batch)
    assert done.pk == batch.pk and done.status == "done"
    assert set(Contact.objects.values_list("first_name", flat=True)) == {""}  # the batch's mapping applied
    with pytest.raises(BadRequest, match="cannot run again"):
        importing.run(io.BytesIO(people(4).encode()), actor=manager, batch=batch)


def test_a_batch_left_running_by_a_dead_worker_is_reverted_then_run_again(manager):
    batch = queued(manager)
    importing.run(io.BytesIO(people(5).encode()), actor=manager, batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status="running")  # as if the worker died
    batch.refresh_from_db()
    importing.run(io.BytesIO(people(5).encode()), actor=manager, batch=batch)
    assert Contact.objects.count() == 5  # not 10
    assert batch.rows.count() == 5
    assert ImportBatch.objects.get(pk=batch.pk).status == "done"


@pytest.fixture
def ext_id(db):
    return CustomField.objects.create(object_type="contact", key="ext_id", label="External id", field_type="text")


def test_rows_can_match_on_an_external_id(manager, ext_id):
    old = contact_create(actor=manager, data={"first_name": "Old", "custom_fields": {"ext_id": "A1"}}).obj
    text = "Id,first name,email\nA1,Renamed,a@x.com\nB2,New,b@x.com\nB2,Twice,c@x.com\n"
    columns = {"Id": "cf_ext_id", "first name": "first_name", "email": "email"}
    batch = run(manager, text, columns=columns, match_on="cf_ext_id", update_existing=True)
    assert batch.counts == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "error": 1,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert batch.match_on == "cf_ext_id"
    old.refresh_from_db()
    assert old.first_name == "Renamed"
    assert batch.rows.get(number=4).errors == {"ext_id": "Same ext_id as line 3 of this file."}


def test_matching_can_be_turned_off(manager):
    contact_create(actor=manager, data={"email": "p0@x.com"})
    batch = run(manager, people(2) + "p1@x.com,Again\n", match_on="none")
    assert batch.counts["create"] == 3 and Contact.objects.filter(email="p1@x.com").count() == 2


@pytest.mark.parametrize(
    ("match_on", "message"),
    [("phone", "Unknown match"), ("cf_ext_id", "No column is mapped to cf_ext_id")],
)
def test_a_bad_match_option_is_refused_before_anything_is_written(manager, ext_id, match_on, message):
    with pytest.raises(ValidationFailed) as exc:
        run(manager, people(2), match_on=match_on)
    assert message in exc.value.fields["match_on"]
    assert not ImportBatch.objects.exists() and not Contact.objects.exists()


def test_undo_across_chunks_restores_updates_and_removes_creates(manager):
    kept = [contact_create(actor=manager, data={"email": f"p{i}@x.com", "first_name": "Before"}).obj for i in range(4)]
    batch = run(manager, people(9), update_existing=True)
    assert batch.counts == {
        "create": 5,
        "update": 4,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert importing.undo(batch, actor=manager) == {"deleted": 5, "restored": 4, "gone": 0}
    assert sorted(Contact.objects.values_list("pk", "first_name")) == [(c.pk, "Before") for c in kept]


def test_undo_needs_the_delete_permission_when_the_import_created_records(rep_a, admin_user):
    batch = run(rep_a, people(2))  # a sales rep may add and change contacts, not delete them
    with pytest.raises(PermissionDenied, match="may not delete contacts"):
        importing.undo(batch, actor=rep_a)
    assert Contact.objects.count() == 2 and ImportBatch.objects.get(pk=batch.pk).status == "done"
    assert importing.undo(batch, actor=admin_user)["deleted"] == 2  # an admin can


def test_a_failed_import_is_taken_back_even_for_a_user_without_delete(rep_a):
    with pytest.raises(csvread.FileError):
        run(rep_a, people(7) + "big@x.com," + "x" * (csvread.MAX_CELL + 1) + "\n")
    assert not Contact.objects.exists()


def test_a_dry_run_keeps_every_row_with_a_problem_across_chunks(manager):
    text = "email,first name\n" + "".join(
        f"{'bad' if i % 2 else 'p'}{i}{'' if i % 2 else '@x.com'},P\n" for i in range(9)
    )
    batch = run(manager, text, dry_run=True)
    assert batch.counts == {
        "create": 5,
        "update": 0,
        "skip": 0,
        "error": 4,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert sorted(batch.rows.values_list("number", flat=True)) == [3, 5, 7, 9]  # lines of the 4 bad rows
    assert not Contact.objects.exists()
    report = list(batches.error_report(batch))
    assert len(report) == 5 and report[1][3] == "bad1"


def test_an_import_sets_its_sqlite_pragmas_and_puts_them_back(manager, monkeypatch):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own settings")

    def pragma(name):
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA {name}")
            return cur.fetchone()[0]

    seen = []
    real_process = importing._process
    monkeypatch.setattr(importing, "_process", lambda *a: seen.append(pragma("wal_autocheckpoint")) or real_process(*a))
    before = pragma("wal_autocheckpoint")
    run(manager, people(4))
    assert seen == [pragmas.IMPORT_PRAGMAS["wal_autocheckpoint"]] != [before]
    assert pragma("wal_autocheckpoint") == before
