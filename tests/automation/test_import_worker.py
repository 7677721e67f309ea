"""A background import run by real `crm worker` processes, including a worker killed part way: the
next attempt reverts what the first one wrote and imports the file again, so every row is there once."""

import io

from crm.audit.models import ObjectChange
from crm.dataio import background
from crm.dataio.models import ImportBatch
from crm.records.models import Contact
from tests.automation.workers import wait_for
from tests.factories import UserFactory

ROWS = 6000


def people_csv() -> bytes:
    lines = ["email,first name,last name"] + [f"p{i}@example.com,P{i},Worker" for i in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def queue(user):
    return background.queue(
        io.BytesIO(people_csv()),
        actor=user,
        object_type="contacts",
        file_name="people.csv",
        columns=None,
        update_existing=False,
    )


def test_a_worker_imports_a_queued_file(worker_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the workers' CRM_VAR_DIR: they open the stored upload there
    boss = UserFactory(username="boss", role="sales-manager")
    batch = queue(boss)
    stored = tmp_path / "imports" / batch.stored_file
    assert stored.exists()
    worker_db.start("w1")
    wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == "done", timeout=120, workers=worker_db)
    batch.refresh_from_db()
    assert (
        batch.counts
        == {"create": ROWS, "update": 0, "skip": 0, "error": 0, "companies_created": 0, "companies_linked": 0}
        and batch.processed == ROWS
    )
    assert Contact.objects.filter(last_name="Worker", owner=boss).count() == ROWS
    assert not stored.exists() and batch.stored_file == ""  # the upload is removed once imported


def test_a_worker_killed_mid_import_leaves_every_row_imported_once(worker_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    boss = UserFactory(username="boss", role="sales-manager")
    batch = queue(boss)
    first = worker_db.start("w1")
    wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).processed >= 1000, timeout=60, workers=worker_db)
    worker_db.kill(first)  # a chunk or more committed, the rest not read
    partial = Contact.objects.filter(last_name="Worker").count()
    assert 0 < partial < ROWS
    worker_db.start("w2")  # takes the job over once the dead worker's lease runs out
    wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == "done", timeout=120, workers=worker_db)
    assert Contact.objects.filter(last_name="Worker").count() == ROWS
    assert len(set(Contact.objects.filter(last_name="Worker").values_list("email", flat=True))) == ROWS
    assert ImportBatch.objects.get(pk=batch.pk).rows.count() == ROWS
    # The first attempt's records were taken back through the change log, not silently dropped.
    deleted = ObjectChange.objects.filter(object_type="contact", action="delete").count()
    assert deleted >= partial
    assert ObjectChange.objects.filter(object_type="contact", action="create").count() == ROWS + deleted
