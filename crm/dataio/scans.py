"""Duplicate scans: the finder run by a worker for one user, its best pairs kept for review.

The web page shows the user's latest scan; pairs whose records were merged or deleted since, or are no
longer visible to the user, are left out when shown (``visible_pairs``).
"""

from __future__ import annotations

import time

from django.utils import timezone

from crm.automation import jobs
from crm.dataio import duplicates
from crm.dataio.models import DuplicateScan, ScanStatus
from crm.records.services import common

JOB_KIND = "duplicates.scan"
KEPT = 1000  # pairs stored per scan: far more than anyone reviews before scanning again
MIN_SCORE = 45


def start(user, object_type: str) -> DuplicateScan:
    """Queue a scan, or return the one of this user and type still queued or running."""
    rt, _ = duplicates.type_of(object_type)
    common.require(user, rt.model, "view")
    pending = DuplicateScan.objects.filter(
        created_by=user, object_type=object_type, status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING]
    ).first()
    if pending is not None:
        return pending
    scan = DuplicateScan.objects.create(created_by=user, object_type=object_type)
    jobs.enqueue(JOB_KIND, {"scan": scan.pk}, max_attempts=2)
    return scan


def latest(user, object_type: str) -> DuplicateScan | None:
    return DuplicateScan.objects.filter(created_by=user, object_type=object_type).first()


@jobs.handler(JOB_KIND, atomic=False)
def run_job(job) -> None:
    scan = DuplicateScan.objects.select_related("created_by").filter(pk=job.payload.get("scan")).first()
    if scan is None or scan.status == ScanStatus.DONE:
        return
    DuplicateScan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING)
    started = time.perf_counter()
    try:
        pairs = duplicates.find(scan.created_by, scan.object_type, min_score=MIN_SCORE, limit=KEPT)
    except Exception as exc:
        DuplicateScan.objects.filter(pk=scan.pk).update(
            status=ScanStatus.FAILED, message=f"The scan stopped: {type(exc).__name__}.", finished_at=timezone.now()
        )
        raise
    DuplicateScan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.DONE, pairs=pairs, seconds=round(time.perf_counter() - started, 2), finished_at=timezone.now()
    )


def visible_pairs(user, scan: DuplicateScan, limit: int) -> tuple[list[dict], dict]:
    """The scan's pairs whose two records still exist and are visible to ``user``, with the records."""
    rt, _ = duplicates.type_of(scan.object_type)
    ids = {side["id"] for p in scan.pairs for side in (p["a"], p["b"])}
    records = rt.restricted(user).in_bulk(ids)
    pairs = [p for p in scan.pairs if p["a"]["id"] in records and p["b"]["id"] in records][:limit]
    # A rule set since the scan ran: a reason comparing a now hidden field is not shown.
    pairs = [{**p, "reasons": duplicates.shown_reasons(user, rt.object_type, p["reasons"])} for p in pairs]
    return pairs, records
