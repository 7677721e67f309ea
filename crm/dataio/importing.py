"""Importing records from CSV or XLSX: a streamed pipeline of file -> rows -> record data -> services.

Rows are read and written in chunks of CHUNK_ROWS, each chunk in its own transaction, so memory stays
bounded and a long import does not hold the database's write lock for its whole run. Contacts are
created through the bulk service (contact_create_many: the same validation, change log, search index
and events as one at a time, in a few statements per chunk); other rows go through the record type's
create/update service one by one. A row that fails validation is recorded and skipped. A problem with
the file itself (a malformed line, a 10 MB cell) or a crash part way reverts the chunks already
written (the same code as undo), so a failed batch never leaves half a batch behind.
A dry run is the same run with every chunk rolled back: its counts and messages are what a real run does.
Rows are matched to existing records by email (contacts), domain (companies), name (custom object
types), a custom field used as an external id, or not at all (``match_on``); duplicates in the file are
reported. Each type's importer comes from the record-type registry (crm/dataio/importers/__init__.py).
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Callable
from itertools import islice

from django.db import transaction
from django.utils import timezone

from crm.access.policy import policy_for
from crm.core import rawinsert, recordtypes
from crm.core.errors import BadRequest, PermissionDenied, ServiceError, ValidationFailed
from crm.dataio import csvread, importfields, mapping, xlsxread
from crm.dataio.importers import importer_for
from crm.dataio.importers.base import Importer, Outcome
from crm.dataio.models import BatchStatus, ImportBatch, ImportCreated, ImportRow, RowAction
from crm.dataio.pragmas import import_pragmas
from crm.records.models import Company
from crm.records.services import bulk, common

log = logging.getLogger("crm.dataio")

CHUNK_ROWS = 1000  # rows read, written and committed together


def open_table(binary):
    return xlsxread.open_xlsx(binary) if xlsxread.is_xlsx(binary) else csvread.open_csv(binary)


def columns_of(binary, object_type: str = "contacts", actor=None) -> dict:
    """The file's header, the suggested mapping and every target, for the user to edit. With ``actor``:
    the columns its role may not import (field rules) are left unmapped and listed in ``refused``."""
    spec = _spec(object_type)
    source = open_table(binary)
    targets = list(mapping.targets(object_type)) + [f"cf_{k}" for k in mapping.custom_keys(object_type)]
    suggested, refused = mapping.suggest(object_type, source.header), {}
    if actor is not None:
        suggested, refused = importfields.unmapped(actor, spec.record_type(), suggested)
    return {"header": source.header, "mapping": suggested, "targets": targets, "refused": refused}


def run(
    binary,
    *,
    actor,
    object_type: str = "contacts",
    file_name: str = "",
    columns: dict | None = None,
    dry_run: bool = False,
    update_existing: bool = False,
    match_on: str = "",
    create_companies: bool = False,
    progress: Callable[[int, float | None], None] | None = None,
    batch: ImportBatch | None = None,
    before_finish: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Import (or dry-run) a CSV or XLSX file; returns the recorded batch. File problems raise FileError (400).

    ``batch``: a queued batch (a background import) to run into instead of recording a new one; its
    own settings (type, mapping, options) apply. ``progress(rows, fraction)`` is called per chunk.
    ``before_finish(batch)`` does the caller's clean-up before the final status (done, dry run or
    failed) is saved with it, so whoever polls the batch never sees it finished before it is."""
    if batch is not None:
        object_type, columns, update_existing = batch.object_type, batch.mapping, batch.update_existing
        match_on, file_name, dry_run = batch.match_on, batch.file_name, batch.dry_run
        create_companies = batch.create_companies
    spec, source, columns, match_on = check(
        binary,
        actor=actor,
        object_type=object_type,
        columns=columns,
        update_existing=update_existing,
        match_on=match_on,
        create_companies=create_companies,
    )
    fields = {
        "object_type": object_type,
        "file_name": file_name[:255],
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "header": source.header,
        "mapping": columns,
        "update_existing": update_existing,
        "create_companies": create_companies,
        "match_on": match_on,
        "status": BatchStatus.DRY_RUN if dry_run else BatchStatus.RUNNING,
        "dry_run": dry_run,
        "size": csvread.size_of(binary),
        "processed": 0,
        "position": 0,
        "counts": {},
    }
    if batch is None:
        batch = ImportBatch.objects.create(created_by=actor, **fields)
    else:
        _claim(batch, actor, fields)
    importer = spec(actor, source.header, columns, update_existing, match_on, create_companies)
    try:
        with import_pragmas():
            counts = _process(batch, importer, source, dry_run, progress)
    except Exception as exc:
        _fail(batch, actor, exc, dry_run, before_finish)
        raise
    if before_finish:
        before_finish(batch)
    batch.counts = counts
    batch.status = BatchStatus.DRY_RUN if dry_run else BatchStatus.DONE
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def check(
    binary,
    *,
    actor,
    object_type: str,
    columns: dict | None,
    update_existing: bool,
    match_on: str = "",
    create_companies: bool = False,
):
    """What is checked before the first row, and by a background import before it is queued:
    permissions, a readable file with a header, the mapping, the match. Returns the importer class,
    the opened table, the mapping and the match to use."""
    spec = _spec(object_type)
    require(actor, spec, "add")
    if update_existing:
        require(actor, spec, "change")
    if create_companies:
        if object_type != "contacts":
            raise ValidationFailed({"create_companies": "Only a contacts import creates the companies it names."})
        common.require(actor, Company, "add")
    source = open_table(binary)
    columns = checked_mapping(object_type, source.header, columns)
    importfields.refuse(actor, spec.record_type(), columns)  # field rules: refused before the first row
    return spec, source, columns, checked_match_on(spec, columns, match_on)


def _spec(object_type: str) -> type[Importer]:
    return importer_for(object_type)


def require(actor, spec: type[Importer], action: str) -> None:
    """The role must grant ``action`` on the importer's record type."""
    rt = spec.record_type()
    if not policy_for(actor).allows(rt.object_type, action):
        raise PermissionDenied(f"You may not {action} {rt.plural}.")


def checked_mapping(object_type: str, header: list[str], columns: dict | None) -> dict:
    """The user's mapping checked against the file, or the suggested one; at least one column mapped."""
    columns = (
        mapping.validate(object_type, header, columns) if columns is not None else mapping.suggest(object_type, header)
    )
    if not any(columns.values()):
        name = _spec(object_type).record_type().singular
        raise ValidationFailed({"mapping": f"No column matches a {name} field; give a mapping."})
    return columns


def checked_match_on(spec: type[Importer], columns: dict, match_on: str) -> str:
    """What rows are matched on: the type's own key, none, or a mapped custom field (an external id)."""
    match_on = (match_on or "").strip()
    allowed = {"none", *([spec.key_name] if spec.key_name else [])}
    mapped = {t for t in columns.values() if t}
    if not match_on or match_on in allowed:
        return match_on
    if match_on.startswith("cf_"):
        if match_on not in mapped:
            raise ValidationFailed(
                {"match_on": f"No column is mapped to {match_on}; map the external id column to it."}
            )
        return match_on
    choices = ", ".join(sorted(allowed) + ["cf_<custom field key>"])
    raise ValidationFailed({"match_on": f"Unknown match {match_on!r}; one of: {choices}."})


def _claim(batch: ImportBatch, actor, fields: dict) -> None:
    """Start a queued batch. A batch found running was cut short (its worker died): what it wrote is
    reverted first, then it starts again from the top."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        unfinished_check = locked.dry_run and locked.status == BatchStatus.DRY_RUN and locked.finished_at is None
        if locked.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING) and not unfinished_check:
            raise BadRequest(f"Import {locked.pk} is {locked.get_status_display().lower()}; it cannot run again.")
        was_running = locked.status == BatchStatus.RUNNING
    if was_running:
        _revert(batch, actor, force=True)
        batch.rows.all().delete()  # the new run records every row again
        batch.created_records.all().delete()
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)
    for name, value in fields.items():
        setattr(batch, name, value)


def _fail(batch: ImportBatch, actor, exc: Exception, dry_run: bool, before_finish=None) -> None:
    """A run that stopped part way: revert the chunks already committed, record why."""
    if not dry_run:
        try:
            _revert(batch, actor, force=True)  # taking back its own half-written batch, not a user's delete
        except Exception:  # the batch stays "failed" with its rows: undo can be tried again
            log.exception("Reverting failed import %s", batch.pk)
    message = exc.message if isinstance(exc, ServiceError) else f"The import stopped: {exc.__class__.__name__}."
    if before_finish:
        before_finish(batch)
    batch.status, batch.message, batch.finished_at = BatchStatus.FAILED, message, timezone.now()
    batch.save()


def _process(batch, importer: Importer, source, dry_run: bool, progress) -> dict:
    """Read, write and commit the file chunk by chunk; keep the batch's progress current."""
    counts = {a: 0 for a in RowAction.values} | {"companies_created": 0, "companies_linked": 0}
    rows = iter(source.rows)
    read = 0
    while chunk := list(islice(rows, CHUNK_ROWS)):  # a malformed line raises FileError here
        with transaction.atomic():
            outcomes = importer.outcomes(chunk)
            results = [_values(batch, line, cells, o) for (line, cells), o in zip(chunk, outcomes, strict=True)]
            if dry_run:
                transaction.set_rollback(True)
            else:
                rawinsert.insert(ImportRow, ROW_COLUMNS, results)
                _record_created(batch, importer.company_links.take_new())
                _record_others(batch, importer)
        if dry_run:
            importer.company_links.rolled_back()
        if dry_run:  # the rows with problems are kept (preview, error report); nothing else is
            with transaction.atomic():
                rawinsert.insert(ImportRow, ROW_COLUMNS, [r for r in results if r[4] or r[5]])
        for outcome in outcomes:
            counts[outcome.action] += 1
            counts["companies_linked"] += outcome.linked
        counts["companies_created"] = importer.company_links.created
        read += len(chunk)
        fraction = source.fraction()
        position = int(fraction * batch.size) if fraction is not None else 0
        batch.processed, batch.position, batch.counts = read, position, counts
        ImportBatch.objects.filter(pk=batch.pk).update(processed=read, position=position, counts=counts)
        if progress:
            progress(read, fraction)
    if not read:
        raise csvread.FileError("The file has a header but no rows.")
    return counts


def _record_created(batch: ImportBatch, company_ids: list[int]) -> None:
    """Companies a chunk created for its contacts, kept in the chunk's transaction for undo."""
    ImportCreated.objects.bulk_create(
        [ImportCreated(batch=batch, object_type=Company.object_type, object_id=pk) for pk in company_ids]
    )


def _record_others(batch: ImportBatch, importer: Importer) -> None:
    """Other records an importer created besides its rows' own (an order import's new customers), as
    (object_type, id) from its ``take_created()``: undo removes them after the rows, as companies."""
    take = getattr(importer, "take_created", None)
    if take is not None:
        ImportCreated.objects.bulk_create([ImportCreated(batch=batch, object_type=t, object_id=pk) for t, pk in take()])


ROW_COLUMNS = ("batch_id", "number", "action", "object_id", "errors", "warnings", "values", "before")


def _values(batch, line: int, cells: list[str], outcome: Outcome) -> tuple:
    """An ImportRow's values; the original cells are kept for rows with problems (the error report)."""
    problem = bool(outcome.errors) or outcome.action == RowAction.SKIP
    return (
        batch.pk,
        line,
        outcome.action,
        outcome.object_id,
        outcome.errors,
        outcome.warnings,
        cells if problem else None,
        _jsonable(outcome.before),
    )


def _jsonable(before: dict | None) -> dict | None:
    if before is None:
        return None
    return {k: _plain(v) for k, v in before.items()}


def _plain(value):
    """A value as JSON holds it (undo sends it back through the service, which parses it again)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def undo(batch: ImportBatch, *, actor) -> dict:
    """Remove what the batch created and restore what it updated, newest rows first, a chunk per
    transaction (an undo of a million rows does not hold the write lock for its whole run)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.DONE:
            state = batch.get_status_display().lower()
            raise BadRequest(f"Only a finished import can be undone; this one is {state}.")
        if batch.created_by_id != actor.pk and not policy_for(actor).is_admin:
            raise PermissionDenied("Only the user who ran an import, or an admin, may undo it.")
        rt = _spec(batch.object_type).record_type()
        if batch.counts.get("create") and not policy_for(actor).allows(rt.object_type, "delete"):
            names = rt.plural
            raise PermissionDenied(
                f"Undoing this import removes the {batch.counts['create']} {names} it created, and you may not "
                f"delete {names}. Ask a manager or an admin to undo it."
            )
        if batch.counts.get("companies_created") and not policy_for(actor).allows(Company.object_type, "delete"):
            raise PermissionDenied(
                f"Undoing this import removes the {batch.counts['companies_created']} companies it created, and "
                "you may not delete companies. Ask a manager or an admin to undo it."
            )
        batch.status = BatchStatus.UNDONE  # claimed: a second undo at the same time is refused
        batch.save(update_fields=["status"])
    done = _revert(batch, actor)
    batch.undone_at = timezone.now()
    batch.save(update_fields=["undone_at"])
    return done


def _revert(batch: ImportBatch, actor, *, force: bool = False) -> dict:
    """Undo the batch's written rows, newest first, a chunk per transaction. Safe to run again after
    an interruption: a record already removed counts as gone, a restore writes the same values."""
    spec = _spec(batch.object_type)
    done = {"deleted": 0, "restored": 0, "gone": 0}
    rows = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).order_by("-number")
    last = None
    while chunk := list(
        (rows.filter(number__lt=last) if last else rows).values_list("number", "action", "object_id", "before")[
            :CHUNK_ROWS
        ]
    ):
        last = chunk[-1][0]
        with transaction.atomic():
            created = [oid for _, action, oid, _ in chunk if action == RowAction.CREATE]
            if created:
                deleted = spec.delete_many(created, actor=actor, force=force)
                done["deleted"] += deleted
                done["gone"] += len(created) - deleted  # deleted since the import: nothing to undo
            for _, action, oid, before in chunk:
                if action == RowAction.UPDATE:
                    record = spec.record_type().objects().filter(pk=oid).first()
                    if record is None:
                        done["gone"] += 1
                    else:
                        spec.update(record, actor=actor, data=before)
                        done["restored"] += 1
    _remove_created(batch, actor, force, done)
    return done


def _remove_created(batch: ImportBatch, actor, force: bool, done: dict) -> None:
    """Once its rows are reverted, remove the other records the batch created (a contact import's
    companies), newest first, a chunk per transaction, with the same bulk delete."""
    records = batch.created_records.order_by("-pk")
    while chunk := list(records.values_list("pk", "object_type", "object_id")[:CHUNK_ROWS]):
        with transaction.atomic():
            for object_type in {t for _, t, _ in chunk}:
                ids = [oid for _, t, oid in chunk if t == object_type]
                model = recordtypes.by_type(object_type).model
                deleted = bulk.delete_many(model, ids, actor=actor, force=force)
                done["deleted"] += deleted
                done["gone"] += len(ids) - deleted
            ImportCreated.objects.filter(pk__in=[pk for pk, _, _ in chunk]).delete()
