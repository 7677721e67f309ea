"""Recorded import batches: who may see them, a batch's summary, and its error report."""

from __future__ import annotations

from crm.access.policy import policy_for
from crm.core.errors import NotFound
from crm.dataio.exporting import inert
from crm.dataio.models import ImportBatch

SAVE_EVERY = 1000  # row results read back in batches of this many


def batches_for(user):
    """The import batches ``user`` may see: their own; an admin sees all."""
    qs = ImportBatch.objects.all()
    return qs if policy_for(user).is_admin else qs.filter(created_by=user)


def batch_for(user, pk: int) -> ImportBatch:
    batch = batches_for(user).select_related("created_by").filter(pk=pk).first()
    if batch is None:
        raise NotFound(f"No import batch with id {pk}.")
    return batch


def summary(batch: ImportBatch, rows: int = 100) -> dict:
    problems = batch.rows.exclude(errors={}, warnings=[]).order_by("number")[:rows]
    return {
        "id": batch.pk,
        "object_type": batch.object_type,
        "status": batch.status,
        "file_name": batch.file_name,
        "encoding": batch.encoding,
        "delimiter": batch.delimiter,
        "mapping": batch.mapping,
        "match_on": batch.match_on,
        "update_existing": batch.update_existing,
        "create_companies": batch.create_companies,
        "counts": batch.counts,
        "message": batch.message,
        "rows": [
            {"line": r.number, "action": r.action, "id": r.object_id, "errors": r.errors, "warnings": r.warnings}
            for r in problems
        ],
    }


def error_report(batch: ImportBatch):
    """The file's header plus line, action and problems, then each problem row's original cells."""
    yield ["line", "action", "problems", *batch.header]
    rows = batch.rows.exclude(errors={}, warnings=[]).order_by("number")
    for row in rows.iterator(chunk_size=SAVE_EVERY):
        problems = [f"{k}: {v}" for k, v in row.errors.items()] + list(row.warnings)
        cells = [inert(c) for c in (row.values or [])]
        yield [str(row.number), row.action, inert("; ".join(problems)), *cells]
