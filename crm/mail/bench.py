"""`crm bench mail [--db sqlite|postgres] [--rows N] [--samples N] [--docs]`: issue 16's figures, on a
database of its own (var/bench-mail.sqlite3, or BENCH_PG_URL's server, database <name>_mail), made
afresh each run:

1. the IMAP sync of a mailbox of ``--rows`` messages and of one a fifth of its size, from a local
   Dovecot, with each sync's peak memory (crm/mailbox/bench.py), beside raw imaplib FETCH;
2. the background sender's throughput to a local aiosmtpd: messages queued through the outbox
   service, then sent by a real `crm worker` process (the database task backend, as in production),
   timed from the commit to the last "sent", with the worker's CPU time; beside raw smtplib (a
   connection per message, as the sender opens one, and one connection for all);
3. the page of the contact with half the large mailbox's emails on its timeline beside the page of a
   contact with 50 notes (as many entries shown, none an email) and of one with none (Django's test
   client in this process, signed in as an admin, the three alternated), wall and CPU time, each
   beside the raw SQL of the timeline's newest 50 entries.

``--docs`` writes the block between ``<!-- bench:mail:<database> -->`` markers."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from crm.bench.report import machine, pct, write_block
from crm.mailbox import bench as sync_bench

WORKER_START_S = 3  # a worker's Django start-up, left out of the send figure
SEND_TIMEOUT_S = 600


class Counter:
    """aiosmtpd's handler: counts what it accepted."""

    def __init__(self):
        self.count, self.lock = 0, threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 Message accepted for delivery"


class PortZeroController(Controller):
    """Bound to port 0: it learns the port the system gave before its own start-up check connects."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _queue(admin, contact: dict, n: int) -> list[int]:
    from crm.mail.outbox import queue_email

    body = f"<p>Hello,</p><p>{sync_bench.PARAGRAPH * 3}</p>"
    with transaction.atomic():  # committed at once: every job is handed to the worker together
        return [
            queue_email(
                actor=admin,
                to=[contact["email"]],
                subject=f"Order form {i}",
                body_html=body,
                links=[{"type": "contact", "id": contact["id"]}],
            ).pk
            for i in range(n)
        ]


def _sent(ids: list[int]) -> int:
    from crm.mail.models import EmailStatus, OutgoingEmail

    return OutgoingEmail.objects.filter(pk__in=ids, status=EmailStatus.SENT).count()


def _drain(ids: list[int], worker: bool) -> None:
    """Until every message is sent: by a `crm worker` process, or inline as `crm worker --once` runs
    the jobs (the tests, whose database another process cannot see)."""
    from crm.automation import jobs

    deadline = time.monotonic() + SEND_TIMEOUT_S
    while _sent(ids) < len(ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"Only {_sent(ids)} of {len(ids)} messages were sent in {SEND_TIMEOUT_S} s.")
        if not worker:
            jobs.run_due(limit=len(ids))
        else:
            time.sleep(0.05)


def send(admin, contact: dict, n: int, *, worker: bool = True) -> dict:
    server = Counter()
    controller = PortZeroController(server, hostname="127.0.0.1", port=0)
    controller.start()
    url = f"smtp://127.0.0.1:{controller.port}?timeout=30"
    process = None
    try:
        with override_settings(EMAIL_URL=url):
            if worker:
                env = {**os.environ, "EMAIL_URL": url}
                cmd = [sys.executable, "-m", "crm", "worker", "--no-scheduler", "--interval", "0.05"]
                process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(WORKER_START_S)
            start, cpu = time.perf_counter(), _cpu_s(process)
            ids = _queue(admin, contact, n)
            _drain(ids, worker)
            seconds = time.perf_counter() - start
            worker_cpu = _cpu_s(process) - cpu
        received = server.count  # before the floor's own messages
        floors = _smtp_floor(controller.port, contact["email"], n)
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        controller.stop()
    return {
        "messages": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "worker_cpu_s": worker_cpu,
        "received": received,
        **floors,
    }


def _cpu_s(process) -> float:
    """CPU seconds (user and system) the worker process has used, from /proc; this process's own when
    the jobs run inline."""
    if process is None:
        return time.process_time()
    with open(f"/proc/{process.pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _smtp_floor(port: int, to: str, n: int) -> dict:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bench@crm-bench.example", to, "Order form"
    msg.set_content(sync_bench.PARAGRAPH * 3)
    msg.add_alternative(f"<p>{sync_bench.PARAGRAPH * 3}</p>", "html")
    out = {}
    start = time.perf_counter()
    for _ in range(n):
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(msg)
    out["floor_per_connection_per_s"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for _ in range(n):
            smtp.send_message(msg)
    out["floor_one_connection_per_s"] = n / (time.perf_counter() - start)
    return out


def _timed(fn, runs: int, cpu: list | None = None) -> list[float]:
    """Wall milliseconds of each run; the CPU milliseconds (``time.process_time``) into ``cpu``."""
    fn()  # warm up: caches, templates
    out = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return out


def _page(client: Client, url: str):
    def call():
        response = client.get(url, HTTP_HOST="127.0.0.1")
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")

    return call


def _timeline_floor(contact_id: int):
    """The newest 50 activities linked to the contact, through the links' timeline index."""
    sql = (
        "SELECT a.id, a.kind, a.subject, a.body, a.occurred_at, a.direction FROM records_activitylink l "
        "JOIN records_activity a ON a.id = l.activity_id WHERE l.record_type = 'contact' AND l.record_id = %s "
        "ORDER BY l.occurred_at DESC, l.activity_id DESC LIMIT 50"
    )

    def call():
        with connection.cursor() as cur:
            cur.execute(sql, [contact_id])
            return cur.fetchall()

    return call


def pages(admin, people: dict, runs: int) -> dict:
    from crm.records.models import Activity, Contact

    client = Client()
    client.force_login(admin)
    out = {}
    cpu = {key: [] for key in PAGES}
    times = {key: [] for key in PAGES}
    for _ in range(PAGE_ROUNDS):  # the three pages alternated, so a change of load hits them alike
        for key in PAGES:
            times[key] += _timed(_page(client, f"/contacts/{people[key]}/"), max(1, runs // PAGE_ROUNDS), cpu[key])
    for key in PAGES:
        linked = Activity.objects.linked_to(Contact.objects.get(pk=people[key]))
        floors = _timed(_timeline_floor(people[key]), runs)
        out[key] = {
            "emails": linked.filter(kind="email").count(),
            "others": linked.exclude(kind="email").count(),
            "p50": pct(times[key], 0.5),
            "p95": pct(times[key], 0.95),
            "cpu_p50": pct(cpu[key], 0.5),
            "cpu_p95": pct(cpu[key], 0.95),
            "floor": pct(floors, 0.5),
        }
    return out


PARTS = ("sync", "send", "page")
TIMELINE_EMAILS = 5_000  # on the busy contact's timeline when the sync does not put them there
# The busy contact (thousands of emails), a contact with 50 notes (as many entries shown, none an email:
# whether an email entry costs more than another) and one with an empty timeline.
PAGES = ("busy", "notes", "quiet")
PAGE_ROUNDS = 5
NOTES = 50


def notes_contact(admin) -> int:
    """A contact whose timeline holds NOTES notes with bodies like the emails', through the services."""
    from crm.records.services.activities_bulk import activity_create_many
    from crm.records.services.contacts import contact_create

    data = {"first_name": "Noted", "last_name": "Buyer", "email": "noted.buyer@crm-bench.example"}
    pk = contact_create(actor=admin, data=data).obj.pk
    now = timezone.now()
    items = [
        {
            "kind": "note",
            "subject": f"Call notes {i}",
            "body": sync_bench.PARAGRAPH * 3,
            "occurred_at": now - dt.timedelta(minutes=i + 1),
            "links": [{"type": "contact", "id": pk}],
        }
        for i in range(NOTES)
    ]
    with transaction.atomic():
        activity_create_many(actor=admin, items=items)
    return pk


def fill_timeline(admin, contact_id: int, count: int) -> None:
    """``count`` received-style emails on the contact's timeline through the bulk activity service, for
    a run without the IMAP sync (``--only send,page``): the page then holds as many as the issue asks."""
    from crm.records.services.activities_bulk import activity_create_many

    body = sync_bench.PARAGRAPH * 3
    now = timezone.now()
    for start in range(0, count, 500):
        items = [
            {
                "kind": "email",
                "subject": f"Order form {i}",
                "body": body,
                "direction": "inbound",
                "occurred_at": now - dt.timedelta(minutes=i + 1),
                "links": [{"type": "contact", "id": contact_id}],
            }
            for i in range(start, min(count, start + 500))
        ]
        with transaction.atomic():
            activity_create_many(actor=admin, items=items)


def run(
    admin,
    *,
    messages: int,
    sends: int,
    runs: int,
    worker: bool = True,
    contacts: int = sync_bench.PEOPLE,
    out=None,
    only: tuple[str, ...] = PARTS,
) -> dict:
    write = out.write if out is not None else (lambda _text: None)
    small = max(1, messages // 5)
    result = {"database": connection.vendor, "machine": machine(), "runs": runs}
    if "sync" in only:
        result["sync"] = sync_bench.run(admin, [small, messages], fork=worker, contacts=contacts, out=out)
        people = result["sync"]["people"]
    else:
        people = sync_bench.people(admin, contacts)
        if "page" in only:
            fill_timeline(admin, people["busy"], min(messages, TIMELINE_EMAILS))
    if "page" in only:
        people = {**people, "notes": notes_contact(admin)}
    busy = {"id": people["busy"], "email": sync_bench.BUSY}
    if "send" in only:
        result["send"] = send(admin, busy, sends, worker=worker)
        write(
            f"send: {result['send']['per_s']:.1f} msg/s ({sends} messages; worker CPU "
            f"{result['send']['worker_cpu_s']:.1f} s)"
        )
    if "page" in only:
        result["pages"] = pages(admin, people, runs)
        for f in result["pages"].values():
            write(
                f"contact page, {_shown(f)}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, "
                f"CPU p50 {f['cpu_p50']:.1f} ms"
            )
    result["machine"]["load_avg_end"] = os.getloadavg()
    return result


def report(result: dict, at) -> str:
    m = result["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    end = ", ".join(f"{x:.1f}" for x in m.get("load_avg_end", ()))
    lines = [
        f"### Mail on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load} at the "
        f"start, {end} at the end. Dovecot and aiosmtpd on loopback, started by the bench (crm/mail/bench.py).",
        "",
        "| figure | result | floor | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for size, f in result.get("sync", {}).get("sizes", {}).items():
        memory = (
            f"; peak RSS {f['peak_kb'] / 1024:.0f} MB (started at {f['start_kb'] / 1024:.0f} MB): anonymous "
            f"{f['anon_mb']:.0f} MB, file-backed {f['file_mb']:.0f} MB"
            + (
                f", SQLite heap {f['sqlite_mb']:.0f} MB (cache_size {f['cache_kb']:,} KiB)"
                if f.get("sqlite_mb")
                else ""
            )
            if "peak_kb" in f
            else ""
        )
        floor = f["floor"]["per_s"]
        lines.append(
            f"| IMAP sync, {int(size):,} messages | {f['per_s']:.0f} msg/s "
            f"({f['seconds']:.0f} s, CPU {f['cpu_s']:.0f} s)"
            f"{memory} "
            f"| {floor:,.0f} msg/s (raw FETCH) | {floor / f['per_s']:.0f}× |"
        )
    s = result.get("send")
    if s:
        lines.append(
            f"| background send, {s['messages']:,} messages (queue → worker → SMTP → sent) | {s['per_s']:.1f} msg/s "
            f"(worker CPU {s.get('worker_cpu_s', 0) * 1000 / s['messages']:.1f} ms a message) "
            f"| {s['floor_per_connection_per_s']:,.0f} msg/s (smtplib, a connection each; "
            f"{s['floor_one_connection_per_s']:,.0f} on one) | {s['floor_one_connection_per_s'] / s['per_s']:.0f}× |"
        )
    for f in result.get("pages", {}).values():
        cpu = f" (CPU p50 {f['cpu_p50']:.1f} ms, p95 {f['cpu_p95']:.1f} ms)" if "cpu_p50" in f else ""
        lines.append(
            f"| contact page, {_shown(f)} on its timeline ({result['runs']} runs) "
            f"| p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms{cpu} | {f['floor']:.2f} ms (newest 50, raw SQL) "
            f"| {f['p50'] / f['floor']:.0f}× |"
        )
    return "\n".join(lines)


def _shown(f: dict) -> str:
    others = f.get("others", 0)
    return f"{f['emails']:,} emails" + (f" and {others:,} other activities" if others else "")


def update_docs(text: str, vendor: str, only: tuple[str, ...] = PARTS) -> None:
    """The full run's block, or a block of its own for a run of some parts (``mail-send-page:sqlite``),
    so a partial run never drops the other parts' figures."""
    parts = [p for p in PARTS if p in only]
    write_block(f"mail:{vendor}" if len(parts) == len(PARTS) else f"mail-{'-'.join(parts)}:{vendor}", text)


def now():
    return timezone.now()
