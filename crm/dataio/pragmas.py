"""SQLite settings an import runs under (crm/dataio/importing.py), restored when it ends."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

# While an import runs on SQLite: reads go through the bounded page cache instead of mapping the file
# (mmap_size 0: an import touches pages all over a growing file, so its resident memory would grow with
# the database), and the WAL is copied back into the database every 64 MB instead of every 4 MB (each
# copy syncs the file; a chunk of 1,000 contacts dirties more than 4 MB, so the default copied and
# synced after every chunk: about 20 µs a row at 100k rows).
IMPORT_PRAGMAS = {"mmap_size": 0, "wal_autocheckpoint": 16384}


@contextmanager
def import_pragmas():
    if connection.vendor != "sqlite":
        yield
        return
    before = {}
    with connection.cursor() as cur:
        for name, value in IMPORT_PRAGMAS.items():
            cur.execute(f"PRAGMA {name}")
            row = cur.fetchone()  # none for mmap_size on an in-memory database
            if row is not None:
                before[name] = int(row[0])
                cur.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for name, value in before.items():
                cur.execute(f"PRAGMA {name}={value}")
