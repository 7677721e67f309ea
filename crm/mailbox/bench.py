"""IMAP sync figures for `crm bench mail` (crm/mail/bench.py assembles the report): a local Dovecot
started here (tests/mailbox/dovecot.py: the one Dovecot set-up, shared with the tests), one user per
mailbox size filled by APPEND over one connection with real-shaped messages (multipart/alternative,
threads by In-Reply-To, each from a contact the CRM knows), then:

- the sync (crm/mailbox/sync.py, as the worker's "mailbox.sync" job runs it) in a forked child per
  mailbox, so its peak resident memory (ru_maxrss, read by the parent with wait4) is its own and a
  small and a large mailbox can be compared: bounded memory means the two peaks are close;
- the floor: raw imaplib, the same SELECT, SEARCH and FETCH of BODY.PEEK[] in the sync's FETCH chunks
  over one connection, nothing parsed or stored.

Half the messages come from one contact ("busy"), so after the sync that contact's timeline holds
half the large mailbox's emails: the record page figure (crm/mail/bench.py) reads it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import json
import os
import time
from email.message import EmailMessage
from email.utils import format_datetime

from django.db import connections
from django.test.utils import override_settings
from django.utils import timezone

from crm.mailbox import sync

PASSWORD = "bench-password-1"
DOMAIN = "client-bench.example"
BUSY = f"busy@{DOMAIN}"
QUIET = f"quiet@{DOMAIN}"
PEOPLE = 200  # contacts the other half of the messages come from
PARAGRAPH = (
    "Thanks for the call earlier. As discussed, the renewal covers the 40 seats we talked about and "
    "the onboarding sessions in March. Let me know if the terms work for your finance team, and I will "
    "send the order form over. "
)


def _dovecot():
    # The tests' helper: the bench runs from the checkout (as `make bench` does), where tests/ lives.
    from tests.mailbox.dovecot import Dovecot, available

    if not available():
        raise RuntimeError("Dovecot is not installed: run `make dovecot` (apt-get install dovecot-imapd).")
    return Dovecot


def address(i: int, contacts: int = PEOPLE) -> str:
    return f"person{i % contacts}@{DOMAIN}"


def people(admin, contacts: int = PEOPLE) -> dict:
    """The contacts messages come from (through the contact service), and one nobody writes to."""
    from crm.records.models import Contact
    from crm.records.services.contacts import contact_create

    def contact(email: str, first: str, last: str) -> int:
        found = Contact.objects.filter(email=email).values_list("pk", flat=True).first()
        data = {"first_name": first, "last_name": last, "email": email}
        return found or contact_create(actor=admin, data=data).obj.pk

    for i in range(contacts):
        contact(address(i, contacts), "Person", str(i))
    return {"busy": contact(BUSY, "Busy", "Buyer"), "quiet": contact(QUIET, "Quiet", "Buyer")}


def messages(user: str, count: int, now: dt.datetime, contacts: int = PEOPLE) -> list[bytes]:
    """``count`` messages to ``user``: even ones from the busy contact, odd ones from the others;
    every fourth replies to the one before it (In-Reply-To/References, a "Re:" subject)."""
    out = []
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = f"Busy Buyer <{BUSY}>" if i % 2 == 0 else f"Person {i % contacts} <{address(i, contacts)}>"
        msg["To"] = user
        topic = f"Renewal {i // 4}"
        msg["Subject"] = f"Re: {topic}" if i % 4 else topic
        msg["Date"] = format_datetime(now - dt.timedelta(minutes=count - i))
        msg["Message-ID"] = f"<m{i}.{user}@{DOMAIN}>"
        if i % 4:
            msg["In-Reply-To"] = msg["References"] = f"<m{i - 1}.{user}@{DOMAIN}>"
        text = f"Hello,\n\n{PARAGRAPH * 3}\n\nMessage {i}.\n\n-- \nBusy Buyer\n"
        msg.set_content(text)
        msg.add_alternative(f"<html><body><p>Hello,</p><p>{PARAGRAPH * 3}</p><p>Message {i}.</p></body></html>", "html")
        out.append(bytes(msg))
    return out


def fill(server, user: str, count: int, now: dt.datetime, contacts: int) -> float:
    """APPEND ``count`` messages over one connection; the seconds it took."""
    raw = messages(user, count, now, contacts)
    start = time.perf_counter()
    conn = server.connect(user, PASSWORD)
    try:
        for message in raw:
            typ, data = conn.append("INBOX", None, None, message)
            if typ != "OK":
                raise RuntimeError(f"APPEND refused: {data!r}")
    finally:
        conn.logout()
    return time.perf_counter() - start


def floor(server, user: str) -> dict:
    """Raw imaplib: SELECT, UID SEARCH, UID FETCH BODY.PEEK[] in the sync's FETCH chunks; nothing else."""
    start = time.perf_counter()
    conn = server.connect(user, PASSWORD)
    try:
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        fetched = 0
        for i in range(0, len(uids), sync.FETCH_CHUNK):
            typ, data = conn.uid("FETCH", b",".join(uids[i : i + sync.FETCH_CHUNK]).decode(), "(UID BODY.PEEK[])")
            fetched += sum(isinstance(item, tuple) for item in data)
    finally:
        conn.logout()
    seconds = time.perf_counter() - start
    return {"messages": fetched, "seconds": seconds, "per_s": fetched / seconds}


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def in_child(fn) -> dict:
    """Run ``fn`` in a forked child; its JSON result with ``peak_kb`` (the child's ru_maxrss) and
    ``start_kb`` (its resident memory when it began: what it shares with the parent)."""
    connections.close_all()  # the child opens its own: a connection is never shared across a fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            result = {"start_kb": _rss_kb(), **fn()}
        except BaseException as exc:  # reported to the parent, which raises it
            result = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            connections.close_all()
        with os.fdopen(write, "w") as out:
            out.write(json.dumps(result, default=str))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as src:
        text = src.read()
    _, _, usage = os.wait4(pid, 0)
    result = json.loads(text or '{"error": "the child wrote nothing"}')
    if "error" in result:
        raise RuntimeError(f"The sync failed: {result['error']}")
    return {**result, "peak_kb": usage.ru_maxrss}


CACHE_ENV = "BENCH_SQLITE_CACHE_KB"  # the sync's SQLite page cache in KiB, instead of settings' 64,000


def _sqlite_heap():
    """SQLite's own heap in bytes (sqlite3_memory_used: page cache, statements, schema), when Python's
    sqlite3 module uses the system's shared libsqlite3 (as on Debian): what the page cache holds,
    measured rather than inferred. None elsewhere."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        used = lib.sqlite3_memory_used
    except (OSError, AttributeError):
        return None
    used.restype = ctypes.c_int64
    return used


def _cache_size() -> None:
    from django.db import connection

    kib = os.environ.get(CACHE_ENV)
    if kib and connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # this connection is the one the sync uses (same thread)
            cursor.execute(f"PRAGMA cache_size=-{int(kib)}")


def timed_sync(mailbox_id: int) -> dict:
    """The sync's wall and CPU time, and its peak anonymous and file-backed resident memory sampled
    after each batch (crm/bench/imports.py's MemorySampler): anonymous is the Python heap and
    SQLite's page cache, file-backed the database file SQLite maps (mmap_size), pages the kernel
    may drop; SQLite's heap alone is sampled too (``sqlite_mb``), and ``BENCH_SQLITE_CACHE_KB``
    sets a smaller page cache for the sync, to see what of the growth is that cache."""
    from crm.bench.imports import MemorySampler

    sampler, real, heap = MemorySampler(), sync._store_batch, _sqlite_heap()
    sqlite_peak = [0]
    _cache_size()

    def sampled(*args):
        stored = real(*args)
        sampler()
        if heap is not None:
            sqlite_peak[0] = max(sqlite_peak[0], heap())
        return stored

    sync._store_batch = sampled
    start, cpu = time.perf_counter(), time.process_time()
    try:
        result = sync.sync_mailbox(mailbox_id)
    finally:
        sync._store_batch = real
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if result["errors"]:
        raise RuntimeError(f"The sync reported errors: {result['errors']}")
    return {
        "imported": result["imported"],
        "seconds": seconds,
        "cpu_s": cpu,
        "per_s": result["imported"] / seconds,
        "anon_mb": sampler.anon,
        "file_mb": sampler.file,
        "sqlite_mb": sqlite_peak[0] / 2**20 if heap is not None else None,
        "cache_kb": int(os.environ.get(CACHE_ENV) or 64_000),
    }


def run(admin, sizes: list[int], *, fork: bool = True, contacts: int = PEOPLE, out=None) -> dict:
    """Each size's sync and floor; ``fork`` False runs the syncs in this process (the tests: their
    database is not reachable from a child) and measures no memory."""
    from crm.mailbox.services import mailbox_create

    server = _dovecot()()
    with server.config.open("a") as conf:  # a bench, not a mail store: no fsync per APPEND
        conf.write("mail_fsync = never\n")
    for size in sizes:  # before the start: Dovecot may not see a users file changed within the same second
        server.add_user(_user(size), PASSWORD)
    server.start()
    now = timezone.now()
    result = {"people": people(admin, contacts), "sizes": {}}
    try:
        with override_settings(MAILBOX_ALLOW_PRIVATE=True):  # the bench's Dovecot is on loopback
            for size in sizes:
                user = _user(size)
                append_s = fill(server, user, size, now, contacts)
                data = {"name": f"Bench {size}", "host": server.host, "port": server.port, "security": "none"}
                data.update(username=user, password=PASSWORD, start_date=now.date() - dt.timedelta(days=30))
                box = mailbox_create(actor=admin, data=data)
                figure = in_child(lambda box=box: timed_sync(box.pk)) if fork else timed_sync(box.pk)
                figure.update(append_s=append_s, floor=floor(server, user))
                result["sizes"][size] = figure
                if out is not None:
                    out.write(_line(size, figure))
    finally:
        server.stop()
    return result


def _user(size: int) -> str:
    return f"bench{size}@crm-bench.example"


def _line(size: int, f: dict) -> str:
    memory = f" peak RSS {f['peak_kb'] / 1024:.0f} MB (from {f['start_kb'] / 1024:.0f} MB)" if "peak_kb" in f else ""
    return (
        f"IMAP sync of {size:,} messages: {f['per_s']:.0f} msg/s ({f['seconds']:.1f} s, CPU {f['cpu_s']:.1f} s, "
        f"{f['imported']:,} stored);{memory}; anonymous {f['anon_mb']:.0f} MB, file-backed {f['file_mb']:.0f} MB, "
        f"SQLite heap {f.get('sqlite_mb') or 0:.0f} MB (cache_size {f.get('cache_kb', 0):,} KiB); "
        f"floor (raw FETCH) {f['floor']['per_s']:.0f} msg/s; APPEND {f['append_s']:.1f} s; "
        f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
