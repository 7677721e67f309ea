"""The order import's throughput for `crm bench sales` (crm/orders/bench.py): a CSV of N order lines (four
lines an order, a customer company out of 2,000 by name, SKUs of the seeded catalogue) imported through
crm/dataio/importing.py as `crm import orders` does, beside the contact import of N rows
(crm/bench/imports.py's file) in the same process and database. Both batches are undone afterwards,
so a second run starts from the same data."""

from __future__ import annotations

import csv
import random
import resource
import time
from pathlib import Path

from django.conf import settings

from crm.orders.bench_seed import CURRENCY

LINES_PER_ORDER = 4
COMPANIES = 2000
HEADER = ["Order ID", "Order date", "Currency", "Company", "SKU", "Quantity", "Unit price", "Tax %"]


def write_orders_csv(path: Path, rows: int, *, seed: int = 14) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n in range(rows):
            order = n // LINES_PER_ORDER
            if n % LINES_PER_ORDER == 0:
                head = [
                    f"SHOP-{order:07d}",
                    f"2026-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
                    CURRENCY,
                    f"Customer {rnd.randrange(COMPANIES)}",
                ]
            out.writerow([*head, f"SKU-{rnd.randrange(100_000):06d}", rnd.randrange(1, 9), "19.90", "20"])


def _timed_import(path: Path, admin, object_type: str, rows: int, out) -> dict:
    """One import, timed; every tenth of the file, the rate of that tenth and the peak memory so far, so
    a rate that falls or memory that grows with the rows already imported shows where it starts."""
    from crm.dataio import importing

    start = time.perf_counter()
    marks: list[dict] = []

    def progress(read: int, _fraction) -> None:
        if read * 10 // rows > len(marks) or read == rows:
            at = time.perf_counter() - start
            before = marks[-1] if marks else {"rows": 0, "seconds": 0.0}
            rate = (read - before["rows"]) / max(at - before["seconds"], 1e-9)
            # ru_maxrss is in KiB on Linux: the process's peak resident memory so far
            mark = {"rows": read, "seconds": round(at, 1), "rows_per_s": round(rate), "peak_mib": _peak_mib()}
            marks.append(mark)
            out.write(
                f"  {object_type}: {read:,} rows at {at:.1f} s, {rate:,.0f} rows/s since the last mark, "
                f"peak {mark['peak_mib']} MiB"
            )

    with path.open("rb") as binary:
        batch = importing.run(binary, actor=admin, object_type=object_type, file_name=path.name, progress=progress)
    seconds = time.perf_counter() - start
    out.write(f"import {object_type}: {rows / seconds:,.0f} rows/s ({seconds:.1f} s), counts {batch.counts}")
    undo_start = time.perf_counter()
    importing.undo(batch, actor=admin)
    undo_seconds = time.perf_counter() - undo_start
    out.write(f"undo {object_type}: {undo_seconds:.1f} s, peak {_peak_mib()} MiB")
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "counts": batch.counts,
        "marks": marks,
        "undo_seconds": round(undo_seconds, 1),
        "peak_mib": _peak_mib(),
    }


def _peak_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run(admin, rows: int, *, out) -> dict:
    from crm.bench.imports import prepare_data, write_csv

    folder = Path(settings.VAR_DIR) / "bench-import"
    folder.mkdir(parents=True, exist_ok=True)
    orders, contacts = folder / f"orders-{rows}.csv", folder / f"contacts-{rows}.csv"
    write_orders_csv(orders, rows)
    write_csv(contacts, rows)
    prepare_data(rows)  # the contact file's owners, companies and the contacts some rows match
    return {
        "order lines": _timed_import(orders, admin, "orders", rows, out),
        "contact": _timed_import(contacts, admin, "contacts", rows, out),
    }
