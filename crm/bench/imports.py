"""Import throughput and memory (issue 4): `crm bench import --rows N [--db sqlite|postgres]`.

A CSV of N contacts is written the way people bring them (Google/Outlook-style headers, a company
and an owner per row, tags, 1% invalid emails, 1% repeated inside the file, 2% already in the CRM)
into a database of its own (var/bench-import.sqlite3, or BENCH_PG_URL's server, database
<name>_import). The import runs through the same code as `crm import`: validation, duplicate
matching, change log, search index, per-row results. Then the batch is undone. Beside it, the
floor: the same contact and email rows inserted with raw executemany in one transaction; after the
undo, the write floor (crm/bench/write_floor.py): every row an imported contact writes, unchecked.
Peak memory is the process's maximum resident set (ru_maxrss), read before and after.
"""

from __future__ import annotations

import csv
import random
import resource
import time
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from crm.bench import write_floor

OWNERS = 8
COMPANIES = 2000
EXISTING = 0.02  # share of rows whose email is already in the CRM
INVALID = 0.01
REPEATED = 0.01
HEADER = [
    "First Name",
    "Last Name",
    "E-mail Address",
    "Business Phone",
    "Company",
    "Job Title",
    "City",
    "Owner",
    "Tags",
]


def database_url(engine: str, name: str = "import") -> str:
    """The import benchmark's own database (or another bench's, ``name``), beside (never inside) the
    seeded ones."""
    from urllib.parse import urlsplit, urlunsplit

    from crm.bench import database

    if engine == "sqlite":
        return database.url_for(name, engine)
    parts = urlsplit(database.url_for("small", engine))
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{name}"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


class MemorySampler:
    """Peak anonymous memory (Python heap and SQLite's page cache) and peak file-backed pages (the
    database file mapped with mmap_size: clean pages the kernel may drop), sampled per chunk."""

    def __init__(self):
        self.anon = self.file = 0.0

    def __call__(self, rows: int = 0, fraction: float | None = None) -> None:
        try:
            with open("/proc/self/status") as status:
                fields = dict(line.split(":", 1) for line in status)
        except OSError:  # not Linux
            return
        self.anon = max(self.anon, int(fields.get("RssAnon", "0 kB").split()[0]) / 1024)
        self.file = max(self.file, int(fields.get("RssFile", "0 kB").split()[0]) / 1024)


def write_csv(path: Path, rows: int, *, seed: int = 7) -> dict:
    """The file, streamed to disk (the generator holds no rows in memory)."""
    rnd = random.Random(seed)
    firsts = ["Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hiro", "Ines", "José", "Kai", "Lena"]
    lasts = ["Smith", "Müller", "Garcia", "Chen", "Okafor", "Rossi", "Novak", "Silva", "Kim", "Dubois"]
    counts = {"existing": 0, "invalid": 0, "repeated": 0}
    last_plain = None  # a repeated row repeats the latest new address: a duplicate inside the file
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n in range(rows):
            r = rnd.random()
            if r < EXISTING and counts["existing"] < existing_count(rows):
                email = f"existing{counts['existing']}@bench.example"  # each one once
                counts["existing"] += 1
            elif r < EXISTING + INVALID:
                email = f"broken{n}@@example"
                counts["invalid"] += 1
            elif r < EXISTING + INVALID + REPEATED and last_plain:
                email = last_plain
                counts["repeated"] += 1
            else:
                email = last_plain = f"person{n}@example.com"
            out.writerow(
                [
                    rnd.choice(firsts),
                    rnd.choice(lasts),
                    email,
                    f"+1 415 {rnd.randrange(200, 999)} {rnd.randrange(1000, 9999)}",
                    f"Company {rnd.randrange(COMPANIES)}",
                    "Buyer",
                    "Springfield",
                    f"rep{rnd.randrange(OWNERS)}",
                    "imported; 2026",
                ]
            )
    return counts


def existing_count(rows: int) -> int:
    """Contacts made before the import for rows to match (twice the rows that will, on average)."""
    return max(10, int(rows * EXISTING * 2))


def prepare_data(rows: int) -> object:
    """Owners, companies and the contacts some rows will match, through the bulk services."""
    from django.contrib.auth import get_user_model

    from crm.records.models import Company
    from crm.records.services.contacts import contact_create_many

    users = get_user_model().objects
    admin = users.filter(username="bench-admin").first() or users.create_superuser("bench-admin", "b@bench.example")
    for i in range(OWNERS):
        users.get_or_create(username=f"rep{i}", defaults={"email": f"rep{i}@bench.example"})
    now_companies = Company.objects.count()
    Company.objects.bulk_create(
        [Company(name=f"Company {i}", owner=admin, version=1) for i in range(now_companies, COMPANIES)], batch_size=1000
    )
    existing = existing_count(rows)
    have = _existing_emails()
    with transaction.atomic():
        for start in range(have, existing, 1000):
            items = [
                {"first_name": "Old", "last_name": str(i), "email": f"existing{i}@bench.example"}
                for i in range(start, min(existing, start + 1000))
            ]
            contact_create_many(actor=admin, items=items)
    return admin


def _existing_emails() -> int:
    from crm.records.models import ContactEmail

    return ContactEmail.objects.filter(email__endswith="@bench.example", email__startswith="existing").count()


def floor(path: Path) -> float:
    """Seconds to insert the file's contacts and emails with raw inserts (executemany on SQLite, COPY
    on PostgreSQL; no validation), rolled back. Read and written 10,000 rows at a time, so the floor's
    own memory stays small too."""
    from django.utils import timezone

    from crm.core import rawinsert
    from crm.records.models import Contact, ContactEmail

    base = write_floor.contact_base(timezone.now())
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f, transaction.atomic(), connection.cursor() as cur:
        reader = csv.reader(f)
        next(reader)
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM records_contact")
        next_id = cur.fetchone()[0] + 1_000_000
        while chunk := list(islice(reader, 10_000)):
            ids = range(next_id, next_id + len(chunk))
            next_id += len(chunk)
            contacts = [write_floor.contact_row(base, pk, cells) for pk, cells in zip(ids, chunk, strict=True)]
            emails = [(pk, cells[2], "work", True) for pk, cells in zip(ids, chunk, strict=True)]
            rawinsert.write(Contact._meta.db_table, list(base), contacts)
            rawinsert.write(ContactEmail._meta.db_table, ("contact_id", "email", "kind", "is_primary"), emails)
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


def run(rows: int, *, out, keep: bool = False) -> dict:
    from crm.dataio import importing

    folder = Path(settings.VAR_DIR) / "bench-import"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"contacts-{rows}.csv"
    started = time.perf_counter()
    made = write_csv(path, rows)
    out.write(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    admin = prepare_data(rows)
    rss_before = rss_mb()
    sampler = MemorySampler()
    sampler()
    start = time.perf_counter()
    with path.open("rb") as binary:
        batch = importing.run(binary, actor=admin, object_type="contacts", file_name=path.name, progress=sampler)
    seconds = time.perf_counter() - start
    rss_after = rss_mb()
    result = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "file_mix": made,
        "counts": batch.counts,
        "import_seconds": round(seconds, 2),
        "import_rows_per_s": round(rows / seconds),
        "peak_rss_mb_before": round(rss_before),
        "peak_rss_mb_after": round(rss_after),
        "peak_anon_mb": round(sampler.anon),
        "peak_file_backed_mb": round(sampler.file),
    }
    out.write(f"import: {result['import_rows_per_s']:,} rows/s ({seconds:.1f} s), counts {batch.counts}")
    out.write(
        f"peak RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after (during the import: anonymous "
        f"{sampler.anon:.0f} MB, file-backed database pages {sampler.file:.0f} MB)"
    )
    floor_s = floor(path)
    result["floor_seconds"] = round(floor_s, 2)
    result["floor_rows_per_s"] = round(rows / floor_s)
    result["ratio"] = round(seconds / floor_s, 1)
    out.write(
        f"floor (raw inserts of contact + email rows): {rows / floor_s:,.0f} rows/s; ratio {seconds / floor_s:.1f}x"
    )

    if not keep:
        start = time.perf_counter()
        done = importing.undo(batch, actor=admin)
        undo_s = time.perf_counter() - start
        result.update({"undo_seconds": round(undo_s, 2), "undo_rows_per_s": round(rows / undo_s), "undo": done})
        out.write(f"undo: {rows / undo_s:,.0f} rows/s ({undo_s:.1f} s), {done}")
        # After the undo, so it starts from the database the import started from (and after the
        # memory figures, which are the import's own).
        write_floor_s = write_floor.seconds(path, admin)
        result["write_floor_seconds"] = round(write_floor_s, 2)
        result["write_floor_rows_per_s"] = round(rows / write_floor_s)
        result["write_ratio"] = round(seconds / write_floor_s, 1)
        out.write(
            f"write floor (every row an imported contact writes, no checks, a commit per chunk): "
            f"{rows / write_floor_s:,.0f} rows/s; the import takes {seconds / write_floor_s:.1f}x as long"
        )
    else:
        out.write("write floor: not run with --keep (it would start from a larger database than the import)")
    return result
