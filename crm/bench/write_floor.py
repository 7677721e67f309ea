"""The import benchmark's second floor: everything an imported contact writes, with none of the work.

Per row of the file: the contact, its email, phone and two tag rows, a change-log entry (JSON), its
search-index rows (through the real search backend) and a per-row result, written in chunks of
importing.CHUNK_ROWS with a commit each, as the import writes them. The values are taken from the
cells as they are (no parsing, validation, matching or events), so the time is the database's share
of an import. Everything it wrote is removed afterwards (not timed).
"""

from __future__ import annotations

import csv
import json
import time
from itertools import islice
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from crm.audit import changelog
from crm.core import rawinsert
from crm.search.registry import row_key


def seconds(path: Path, admin) -> float:
    from crm.audit.models import ObjectChange
    from crm.dataio import importing
    from crm.dataio.models import ImportBatch, ImportRow
    from crm.records.models import Contact, ContactEmail, ContactPhone, Tag

    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in ("floor-a", "floor-b")]
    batch = ImportBatch.objects.create(created_by=admin, object_type="contacts", file_name=path.name)
    first_id = None
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        line = 1
        while chunk := list(islice(reader, importing.CHUNK_ROWS)):
            with transaction.atomic():
                ids = rawinsert.next_ids(Contact, len(chunk))
                first_id = first_id or ids[0]
                now = timezone.now()
                stamp = connection.ops.adapt_datetimefield_value(now)
                rows = list(zip(ids, chunk, strict=True))
                base = contact_base(now, admin.pk)
                rawinsert.write(Contact._meta.db_table, list(base), [contact_row(base, i, c) for i, c in rows])
                _many(
                    ContactEmail,
                    ("contact_id", "email", "kind", "is_primary"),
                    [(i, c[2], "work", True) for i, c in rows],
                )
                _many(
                    ContactPhone,
                    ("contact_id", "number", "kind", "is_primary"),
                    [(i, c[3], "work", True) for i, c in rows],
                )
                _many(Contact.tags.through, ("contact_id", "tag_id"), [(i, t) for i, _ in rows for t in tags])
                _many(ObjectChange, changelog.BULK_COLUMNS, [_change(i, c, admin, stamp) for i, c in rows])
                _search(rows)
                results = [(batch.pk, line + n, "create", i, "{}", "[]", None, None) for n, (i, _) in enumerate(rows)]
                _many(ImportRow, importing.ROW_COLUMNS, results)
            line += len(chunk)
    elapsed = time.perf_counter() - start
    _remove(first_id, batch, tags)
    return elapsed


def _change(pk: int, cells: list[str], admin, stamp) -> tuple:
    first, last, email, phone, _company, title, city, *_ = cells
    changes = {"city": [None, city], "email": [None, email], "first_name": [None, first], "last_name": [None, last]}
    changes.update({"phone": [None, phone], "title": [None, title], "tags": [None, ["floor-a", "floor-b"]]})
    return (
        stamp,
        admin.pk,
        admin.username,
        "create",
        "contact",
        pk,
        f"{first} {last}",
        json.dumps(changes),
        None,
        "import",
    )


def _search(rows: list[tuple[int, list[str]]]) -> None:
    from crm.search.backends import backend

    entries = []
    for pk, (first, last, email, phone, *_) in rows:
        name = f"{first} {last}".lower()
        entries.append((row_key("contact", pk), "contact", pk, f"{name} {email} {phone}".lower(), name))
    backend().upsert(entries)


def _many(model, columns, values) -> None:
    names = [model._meta.get_field(c).column for c in columns]
    rawinsert.write(model._meta.db_table, names, values)


def contact_base(now, owner_id: int | None = None) -> dict:
    """Column -> database value of a new contact, for both floors."""
    from crm.records.models import Contact

    template = Contact(version=1, created_at=now, updated_at=now, owner_id=owner_id)
    fields = Contact._meta.concrete_fields
    return {f.column: f.get_db_prep_save(f.pre_save(template, False), connection) for f in fields}


def contact_row(base: dict, pk: int, cells: list[str]) -> tuple:
    """A benchmark file's row as a contact row, its values as they are."""
    first, last, email, phone, _company, title, city, *_ = cells
    row = dict(base, id=pk, first_name=first, last_name=last, name=f"{first} {last}")
    row.update(email=email, phone=phone, title=title, city=city)
    return tuple(row.values())


def _remove(first_id: int | None, batch, tags: list[int]) -> None:
    """Take back what the floor wrote (its contacts are the ids from first_id on; nothing else made
    contacts meanwhile: the benchmark's database is its own)."""
    from crm.audit.models import ObjectChange
    from crm.records.models import Contact, Tag
    from crm.search.backends import backend

    if first_id is not None:
        ids = list(Contact.objects.filter(pk__gte=first_id).values_list("pk", flat=True))
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            with transaction.atomic():
                backend().delete([row_key("contact", pk) for pk in chunk])
                ObjectChange.objects.filter(object_type="contact", object_id__in=chunk).delete()
                Contact.objects.filter(pk__in=chunk).delete()  # emails, phones and tag rows with them
    batch.delete()  # its rows with it
    Tag.objects.filter(pk__in=tags).delete()
