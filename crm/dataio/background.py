"""Imports run by a worker: the upload is kept under var/imports/, a "queued" batch is created once
the file and mapping have been checked, and the job ``import.run`` imports it while the batch row
shows the progress to whoever polls it.

Stored files get random names (never the user's file name) and are only ever opened through
``path_of``, which refuses anything outside var/imports/.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.automation import jobs
from crm.automation.models import Job, JobStatus
from crm.core.errors import BadRequest, ServiceError
from crm.dataio import importing
from crm.dataio.models import BatchStatus, ImportBatch

log = logging.getLogger("crm.dataio")

JOB_KIND = "import.run"
STALE_SECONDS = 24 * 3600  # uploads left behind by an abandoned wizard are removed after a day
ACTIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING)
FINISHED = (BatchStatus.DONE, BatchStatus.UNDONE)


def folder() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(name: str) -> Path:
    """The stored file called ``name``; a name that is not one of ours (a path, "..") is refused."""
    if not name or Path(name).name != name or name.startswith("."):
        raise BadRequest("This upload is not available any more; upload the file again.")
    return folder() / name


def store(upload) -> str:
    """Copy an upload (Django UploadedFile or binary file) under var/imports/; returns its name."""
    sweep()
    name = secrets.token_hex(16)
    with open(path_of(name), "xb") as out:
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            upload.seek(0)
            shutil.copyfileobj(upload, out)
    return name


def remove(name: str) -> None:
    if name:
        path_of(name).unlink(missing_ok=True)


def sweep() -> None:
    """Delete stored uploads older than a day that no queued or running import still needs."""
    keep = set(ImportBatch.objects.filter(status__in=ACTIVE).values_list("stored_file", flat=True))
    cutoff = time.time() - STALE_SECONDS
    for path in folder().iterdir():
        if path.name not in keep and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def check(
    name: str,
    *,
    actor,
    object_type: str,
    columns: dict | None,
    update_existing: bool,
    match_on: str = "",
    create_companies: bool = False,
) -> dict:
    """importing.check on a stored upload. Returns the header, mapping and match to use."""
    with open(path_of(name), "rb") as binary:
        _, source, chosen, match_on = importing.check(
            binary,
            actor=actor,
            object_type=object_type,
            columns=columns,
            update_existing=update_existing,
            match_on=match_on,
            create_companies=create_companies,
        )
    return {"header": source.header, "mapping": chosen, "match_on": match_on}


def queue(
    upload,
    *,
    actor,
    object_type: str,
    file_name: str,
    columns: dict | None,
    update_existing: bool,
    match_on: str = "",
    dry_run: bool = False,
    create_companies: bool = False,
):
    """Store the upload, check it, and queue its import. A bad file or mapping raises at once and
    leaves nothing behind."""
    name = store(upload)
    try:
        return queue_stored(
            name,
            actor=actor,
            object_type=object_type,
            file_name=file_name,
            columns=columns,
            update_existing=update_existing,
            match_on=match_on,
            dry_run=dry_run,
            create_companies=create_companies,
        )
    except BaseException:
        remove(name)
        raise


def queue_stored(
    name: str,
    *,
    actor,
    object_type: str,
    file_name: str,
    columns,
    update_existing: bool,
    match_on: str = "",
    dry_run: bool = False,
    create_companies: bool = False,
):
    """Queue the import of an already stored upload (the web wizard keeps one between its steps).
    A real import takes the file over: it is removed when the import ends, or now if it is refused.
    A dry run leaves the file to its owner (the wizard imports it next)."""
    try:
        checked = check(
            name,
            actor=actor,
            object_type=object_type,
            columns=columns,
            update_existing=update_existing,
            match_on=match_on,
            create_companies=create_companies,
        )
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                object_type=object_type,
                file_name=file_name[:255],
                header=checked["header"],
                mapping=checked["mapping"],
                update_existing=update_existing,
                create_companies=create_companies,
                match_on=checked["match_on"],
                status=BatchStatus.QUEUED,
                dry_run=dry_run,
                size=path_of(name).stat().st_size,
                stored_file=name,
                created_by=actor,
            )
            # A second attempt is for a worker that died mid-run (its lease ran out): importing.run
            # reverts what the first wrote and starts again. An error fails the batch: no retry.
            jobs.enqueue(JOB_KIND, {"batch": batch.pk}, max_attempts=2)
    except BaseException:
        if not dry_run:
            remove(name)
        raise
    return batch


def unfinished(batch: ImportBatch) -> bool:
    """Queued, running, or a dry run still checking rows."""
    return batch.status in ACTIVE or (batch.dry_run and batch.status == BatchStatus.DRY_RUN and not batch.finished_at)


@jobs.handler(JOB_KIND, atomic=False)
def run_job(job) -> None:
    batch = ImportBatch.objects.select_related("created_by").filter(pk=job.payload.get("batch")).first()
    if batch is None or not unfinished(batch):
        return  # removed, or finished by an earlier attempt (running: that attempt's worker died)
    try:
        if batch.created_by is None or not batch.created_by.is_active:
            raise BadRequest("The user who started this import is no longer active.")
        with open(path_of(batch.stored_file), "rb") as binary:
            importing.run(
                binary,
                actor=batch.created_by,
                object_type=batch.object_type,
                file_name=batch.file_name,
                columns=batch.mapping,
                dry_run=False,
                update_existing=batch.update_existing,
                batch=batch,
                progress=_heartbeat(job),
                before_finish=_release_upload,
            )
    except Exception as exc:
        _release_upload(batch)
        _failed(batch, exc)
        raise


def _release_upload(batch: ImportBatch) -> None:
    """Remove a finished import's upload before its final status is saved: a batch seen "done" or
    "failed" has no file left. A dry run keeps it: the wizard imports the file it previewed next."""
    if batch.dry_run or not batch.stored_file:
        return
    remove(batch.stored_file)
    ImportBatch.objects.filter(pk=batch.pk).update(stored_file="")
    batch.stored_file = ""


def _heartbeat(job):
    """Renew the job's lease after every chunk: a long import is not taken for one whose worker died."""

    def beat(rows: int, fraction) -> None:
        mine = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)
        if not mine.update(lease_until=timezone.now() + jobs.lease()):
            log.warning("Import job %s lost its lease at row %s; another attempt may have started", job.pk, rows)

    return beat


def _failed(batch: ImportBatch, exc: Exception) -> None:
    """Record why, unless the import already did (it marks file problems itself)."""
    if isinstance(exc, ServiceError):
        message = exc.message
    elif isinstance(exc, FileNotFoundError):
        message = "The uploaded file is gone; upload it again."
    else:
        message = f"The import stopped: {type(exc).__name__}."
    ImportBatch.objects.filter(pk=batch.pk, status__in=(*ACTIVE, BatchStatus.DRY_RUN), finished_at=None).update(
        status=BatchStatus.FAILED, message=message, finished_at=timezone.now()
    )


def progress(batch: ImportBatch) -> dict:
    """How far an import is: rows read, bytes read of the file, and a percentage (100 only once done;
    the byte position of a CSV is read ahead by the text reader, so it reaches the end early)."""
    if batch.status in FINISHED or (batch.status == BatchStatus.DRY_RUN and batch.finished_at):
        percent = 100
    else:
        percent = min(99, batch.position * 100 // batch.size) if batch.size else 0
    return {"processed": batch.processed, "position": batch.position, "size": batch.size, "percent": percent}
