"""Backup and restore of the whole database, consistent while the app keeps running.

SQLite: the online backup API copies a consistent snapshot page by page while writers go on
(WAL). PostgreSQL: pg_dump's custom format (one snapshot, compressed) and pg_restore.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message says why, for the operator."""


def backup(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.unlink(missing_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(tmp)
        try:
            connection.connection.backup(target, pages=1024)  # yields between steps: writers keep going
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        _pg("pg_dump", ["--format=custom", "--no-owner", f"--file={tmp}"])
    else:
        raise BackupError(f"No backup method for {connection.vendor}.")
    tmp.replace(path)  # only a complete backup ever has the final name
    return path


def restore(path: str | Path) -> None:
    """Replace the configured database's content by the backup at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    with path.open("rb") as file:
        head = file.read(16)
    if connection.vendor == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{path} is not a SQLite backup (was it made from PostgreSQL?).")
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)  # atomic: readers see the old or the new database
        finally:
            source.close()
    elif connection.vendor == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{path} is not a pg_dump custom-format backup (was it made from SQLite?).")
        connection.close()  # pg_restore --clean drops tables this process may hold open
        _pg("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)])
    else:
        raise BackupError(f"No restore method for {connection.vendor}.")


def check_keys() -> list[str]:
    """After a restore: one encrypted value per key id found must decrypt with the configured keys,
    else BackupError naming the missing key. Returns the key ids checked."""
    from crm.core import crypto
    from crm.customization.rotation import sample_per_key

    keys = crypto.keyset()
    samples = sample_per_key()
    for kid, sealed in samples.items():
        try:
            keys.open(sealed)
        except crypto.KeyMissing:
            raise BackupError(f"restored data is encrypted with key {kid}, which is not in ENCRYPTION_KEYS.") from None
        except crypto.Undecryptable:
            raise BackupError(f"restored data under key {kid} does not decrypt with the configured key.") from None
    return sorted(samples)


def _pg(tool: str, args: list[str]) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (PostgreSQL client tools).")
    s = connection.settings_dict
    cmd = [tool, f"--dbname={s['NAME']}"]
    if s.get("HOST"):
        cmd.append(f"--host={s['HOST']}")
    if s.get("PORT"):
        cmd.append(f"--port={s['PORT']}")
    if s.get("USER"):
        cmd.append(f"--username={s['USER']}")
    env = {**os.environ, **({"PGPASSWORD": str(s["PASSWORD"])} if s.get("PASSWORD") else {})}
    done = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# --- Verification: record counts and a checksum of every table -----------------------------------


def tables(conn, vendor: str) -> list[str]:
    cur = conn.cursor()
    if vendor == "sqlite":
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [r[0] for r in cur.fetchall()]


def table_checksums(conn, vendor: str) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of every row in primary-key order)} over a DB-API connection."""
    out = {}
    for table in tables(conn, vendor):
        cur = conn.cursor()
        cur.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        digest, count = hashlib.sha256(), 0
        for row in cur.fetchall():
            digest.update(repr(row).encode())
            count += 1
        out[table] = (count, digest.hexdigest())
    return out
