"""Rebuilding one type's search rows when what global search indexes of it changes: a custom object type
whose searchable fields or name field changed (crm/objects/search_hooks.py). Its rows are removed and,
while the type is still searchable, written again from its records.

A type of at most INLINE_RECORDS records is reindexed at once (after the definition's transaction
commits); a larger one by the job ``search.reindex`` (crm.automation.jobs), so an admin's click on
"searchable" does not wait for a million records. Until the job ran, search finds by the old fields.
"""

from __future__ import annotations

import logging

from django.db import transaction

from crm.automation import jobs
from crm.core import recordtypes
from crm.search.backends import backend
from crm.search.index import rebuild
from crm.search.registry import row_key, searchables

log = logging.getLogger("crm.search")

JOB_KIND = "search.reindex"
INLINE_RECORDS = 1000
BATCH = 2000


def reindex_type(object_type: str) -> int:
    """Drop the type's rows, then index its records again if it is searchable; returns the rows written."""
    rt = recordtypes.by_type(object_type)
    if rt is None:
        return 0
    with transaction.atomic():
        ids = rt.objects().order_by("pk").values_list("pk", flat=True)
        last = 0
        while chunk := list(ids.filter(pk__gt=last)[:BATCH]):
            backend().delete([row_key(object_type, pk) for pk in chunk])
            last = chunk[-1]
        return rebuild([object_type], batch_size=BATCH) if object_type in searchables() else 0


def schedule(object_type: str) -> None:
    """Reindex the type once the current transaction commits: at once when it is small, else by a job."""
    transaction.on_commit(lambda: _start(object_type))


def _start(object_type: str) -> None:
    rt = recordtypes.by_type(object_type)
    if rt is None:  # deleted in the same transaction: its records went out of the index with it
        return
    if rt.objects().count() <= INLINE_RECORDS:
        reindex_type(object_type)
    else:
        jobs.enqueue(JOB_KIND, {"object_type": object_type})


@jobs.handler(JOB_KIND)
def _run(job) -> None:
    written = reindex_type(job.payload["object_type"])
    log.info("Reindexed %s: %s rows", job.payload["object_type"], written)
