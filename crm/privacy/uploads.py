"""Import uploads not yet run that hold a person: files under var/imports/ (crm.dataio.background) kept
for an import wizard between its steps or for a queued import.

The rule: an upload is about the person when one of its rows has a cell that is one of the person's
emails or phone numbers (compared normalized, as the records store them). Subject access lists those
rows (imports.json); erasure deletes the whole file, not only the rows: the rest of the file is the
uploader's to send again, and a file the CRM rewrote would no longer be the one they checked. A queued
import (or a dry run still to check) of such a file is failed with a message saying why; a running one
keeps reading the copy it has open, and its rows go through the create services, which refuse the person
once their identifiers are on the block list. A finished import keeps no file: its kept rows are
scrubbed by crm.privacy.erasure.scrub_import_rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.core.errors import ServiceError
from crm.core.normalize import InvalidValue, normalize_phone

PHONE_TAIL = 7  # digits compared before the full (slower) phone normalization confirms a match
CANCELLED = "Cancelled: the upload held data of a person who was erased; it was deleted."


@dataclass
class PendingUpload:
    name: str  # the stored file's random name under var/imports/
    batches: list[dict] = field(default_factory=list)  # the import batches waiting on it
    header: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # {"line": n, "cells": {column: value}}

    def as_dict(self) -> dict:
        return {"upload": self.name, "batches": self.batches, "header": self.header, "rows": self.rows}


def naming(emails: set[str], phones: set[str]) -> list[PendingUpload]:
    """The stored uploads with a row naming one of ``emails`` / ``phones`` (normalized values)."""
    from crm.dataio import background

    if not emails and not phones:
        return []
    found = []
    for path in sorted(background.folder().iterdir()):
        if path.is_file() and not path.name.startswith("."):
            upload = _scan(path, emails, phones)
            if upload is not None:
                found.append(upload)
    _attach_batches(found)
    return found


def _scan(path: Path, emails: set[str], phones: set[str]) -> PendingUpload | None:
    from crm.dataio import importing

    match = _Matcher(emails, phones)
    try:
        with open(path, "rb") as binary:
            source = importing.open_table(binary)
            rows = [
                {"line": n, "cells": dict(zip(source.header, cells, strict=False))}
                for n, cells in source.rows
                if any(match(c) for c in cells)
            ]
    except FileNotFoundError:  # removed meanwhile (a finished import, the sweep)
        return None
    except (ServiceError, OSError, UnicodeError):  # not readable as a table: look at its raw text
        return PendingUpload(path.name) if _raw_mentions(path, emails, phones) else None
    return PendingUpload(path.name, header=source.header, rows=rows) if rows else None


class _Matcher:
    """Is a cell one of the person's emails or phones? Phones are normalized only when the cell's last
    digits are one of theirs (normalizing every cell of a large file would be slow)."""

    def __init__(self, emails: set[str], phones: set[str]):
        self.emails, self.phones = emails, phones
        self.tails = {re.sub(r"\D", "", p)[-PHONE_TAIL:] for p in phones}

    def __call__(self, cell: str) -> bool:
        value = cell.strip()
        if not value:
            return False
        if value.lower() in self.emails:
            return True
        if re.sub(r"\D", "", value)[-PHONE_TAIL:] not in self.tails:
            return False
        try:
            return normalize_phone(value) in self.phones
        except InvalidValue:
            return False


def _raw_mentions(path: Path, emails: set[str], phones: set[str]) -> bool:
    try:
        text = path.read_bytes().decode("utf-8", errors="ignore").lower()
    except OSError:
        return False
    return any(e in text for e in emails) or any(p in text for p in phones)


def _attach_batches(found: list[PendingUpload]) -> None:
    from crm.dataio.models import ImportBatch

    by_name = {u.name: u for u in found}
    for batch in ImportBatch.objects.filter(stored_file__in=list(by_name)).order_by("pk"):
        by_name[batch.stored_file].batches.append(
            {
                "id": batch.pk,
                "object_type": batch.object_type,
                "file_name": batch.file_name,
                "status": batch.status,
                "created_at": batch.created_at,
                "created_by": batch.created_by_id,
            }
        )


def forget(found: list[PendingUpload]) -> dict[str, int]:
    """Fail the waiting imports of these uploads and delete the files once the erasure commits (a
    rolled-back erasure leaves them)."""
    from crm.dataio import background
    from crm.dataio.models import BatchStatus, ImportBatch

    names = [u.name for u in found]
    waiting = Q(status=BatchStatus.QUEUED) | Q(dry_run=True, status=BatchStatus.DRY_RUN, finished_at=None)
    cancelled = (
        ImportBatch.objects.filter(waiting, stored_file__in=names).update(
            status=BatchStatus.FAILED, message=CANCELLED, stored_file="", finished_at=timezone.now()
        )
        if names
        else 0
    )
    for name in names:
        transaction.on_commit(lambda name=name: background.remove(name))
    return {"uploads_deleted": len(names), "imports_cancelled": cancelled}
