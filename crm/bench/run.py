"""`crm bench run`: every figure of issue 5 through real HTTP against gunicorn, each beside its floor.

The server is the production setup (crm.ops.gunicorn_conf, 2 worker processes) on a free
127.0.0.1 port, against the seeded benchmark database. Requests come from one keep-alive
connection in this process, one at a time, so a figure is a latency, not a queueing effect;
the floor query runs right after each request, so both see the same machine load.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import connection

from crm.access.models import ApiToken
from crm.bench import floors, object_figures, throttle_cost
from crm.bench.client import Client, measure
from crm.bench.load import LoadResult, run_load
from crm.bench.report import Figure, write_report
from crm.bench.scales import Scale
from crm.bench.server import Server
from crm.records.models import Pipeline


@dataclass
class Params:
    """Inputs drawn from the seeded data, so every run asks the same questions."""

    owner_stages: list[tuple[int, int]]
    contacts: list[int]
    prefixes: list[str]
    emails: list[str]
    phones: list[str]
    board_pipeline: int
    board_stages: list[int]
    admin_id: int
    rng: random.Random = field(default_factory=lambda: random.Random(5))


def _params(n: int) -> Params:
    rng = random.Random(5)
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM records_contact")
        max_contact = cur.fetchone()[0]
        cur.execute(
            "SELECT owner_id, stage_id FROM records_deal WHERE owner_id IS NOT NULL GROUP BY owner_id, stage_id "
            "ORDER BY COUNT(*) DESC LIMIT 24"
        )
        owner_stages = cur.fetchall()
        # Mostly random contacts, plus the few with thousands of activities.
        contacts = [rng.randint(1, max_contact) for _ in range(n)] + list(range(1, 6))
        picked = _in(contacts[: min(n, 300)])
        cur.execute(f"SELECT last_name, email FROM records_contact WHERE id IN ({picked}) AND email <> ''")
        names_emails = cur.fetchall()
        cur.execute(f"SELECT number FROM records_contactphone WHERE contact_id IN ({picked})")
        phones = [r[0][2:] for r in cur.fetchall()]  # national digits, as people type them
    board = Pipeline.objects.get(name="Board")
    stage_ids = list(board.stages.order_by("order", "id").values_list("id", flat=True))
    admin = User.objects.get(username="bench-admin")
    return Params(
        owner_stages=[tuple(r) for r in owner_stages],
        contacts=contacts,
        prefixes=[r[0][:4] for r in names_emails if len(r[0]) >= 4],
        emails=[r[1] for r in names_emails],
        phones=phones,
        board_pipeline=board.pk,
        board_stages=stage_ids,
        admin_id=admin.pk,
    )


def _in(ids) -> str:
    return ", ".join(str(int(i)) for i in ids)


def run(scale: Scale, *, engine: str, options: dict, out) -> dict:
    samples = options.get("samples", 200)
    p = _params(samples)
    objects = object_figures.params(samples)
    _, token = ApiToken.issue(User.objects.get(username="bench-admin"), name="bench")
    _, rep_token = ApiToken.issue(objects.rep, name="bench")
    figures: list[Figure] = []
    from django.conf import settings

    log = settings.VAR_DIR / f"bench-server-{engine}-{scale.name}.log"
    # The rate limits count as in production (their cost is in the figures) but never refuse the load.
    limits = dict.fromkeys(
        ("API_RATE_LIMIT", "API_RATE_LIMIT_HEAVY", "API_RATE_LIMIT_ANON", "API_RATE_LIMIT_IP"), "10000000/min"
    )
    with Server(workers=2, env={"DEBUG": "0", "LOG_LEVEL": "WARNING", **limits}, log=log) as server:
        client = Client(server.port, token)
        out.write(f"gunicorn (2 workers) on 127.0.0.1:{server.port}; {samples} samples per figure\n")

        def owner_stage(i):
            return p.owner_stages[i % len(p.owner_stages)]

        def contact(i):
            return p.contacts[i % len(p.contacts)]

        def deal_list(i):
            owner, stage = owner_stage(i)
            return ("GET", f"/api/v1/deals?owner={owner}&stage={stage}&sort=-updated_at&limit=50", None)

        figures.append(measure(
            client, "list: deals by owner+stage, sorted, page of 50", samples,
            deal_list,
            lambda i: floors.deal_list(*owner_stage(i)), group="list", target_p95=30,
        ))  # fmt: skip
        figures.append(measure(
            client, "detail: contact", samples,
            lambda i: ("GET", f"/api/v1/contacts/{contact(i)}", None),
            lambda i: floors.contact_detail(contact(i)), group="detail", target_p95=30,
        ))  # fmt: skip
        figures.append(measure(
            client, "detail: contact timeline (50 entries)", samples,
            lambda i: ("GET", f"/api/v1/contacts/{contact(i)}/timeline", None),
            lambda i: floors.contact_timeline(contact(i)), group="detail", target_p95=30,
        ))  # fmt: skip
        for label, terms in (("name prefix", p.prefixes), ("email", p.emails), ("phone", p.phones)):
            figures.append(measure(
                client, f"search: {label}", samples,
                lambda i, t=terms: ("GET", f"/api/v1/search?q={_quote(t[i % len(t)])}", None),
                lambda i, t=terms: floors.search(t[i % len(t)]), group="search", target_p95=50,
            ))  # fmt: skip
        stamp = int(time.time())
        figures.append(measure(
            client, "create: contact", samples,
            lambda i: ("POST", "/api/v1/contacts", {"first_name": "Bench", "last_name": f"Api{i}",
                                                     "email": f"bench.api.{stamp}.{i}@example.com",
                                                     "owner_id": p.admin_id}),
            lambda i: floors.contact_create("Bench", f"Floor{i}", f"bench.floor.{stamp}.{i}@example.com", p.admin_id),
            group="write", expect=201,
        ))  # fmt: skip
        figures.append(measure(
            client, "update: contact title", samples,
            lambda i: ("PATCH", f"/api/v1/contacts/{contact(i)}", {"title": f"Title {stamp} {i}"}),
            lambda i: floors.contact_update(contact(i + 1), f"Floor {stamp} {i}"), group="write",
        ))  # fmt: skip
        few = max(20, samples // 5)
        figures.append(measure(
            client, "board: pipeline with 5,000 open deals", few,
            lambda i: ("GET", f"/api/v1/sales/pipelines/{p.board_pipeline}/board", None),
            lambda i: floors.board(p.board_pipeline, p.board_stages), group="board",
        ))  # fmt: skip
        figures.append(measure(
            client, "forecast: all open deals by month", few,
            lambda i: ("GET", "/api/v1/sales/forecast", None), lambda i: floors.forecast(),
            group="reports", target_p95=500,
        ))  # fmt: skip
        figures.append(measure(
            client, "funnel: stage conversion, all deals", few,
            lambda i: ("GET", "/api/v1/sales/funnel", None), lambda i: floors.funnel(),
            group="reports", target_p95=500,
        ))  # fmt: skip
        rep = Client(server.port, rep_token)
        figures += object_figures.figures(client, rep, objects, samples)
        rep.conn.close()
        out.write("rate-limit cost: the deal list with limits on and off, in turn\n")
        throttle = throttle_cost.over_http(client, deal_list, samples, token, log)
        paths = [f"/api/v1/contacts/{c}" for c in p.contacts[:500]]
        headers = {"Authorization": client.headers["Authorization"]}
        duration, conns = options.get("duration", 10), options.get("connections", 8)
        detail = _load(server.port, paths, headers, duration, conns, out)
        ping = _load(server.port, ["/healthz/ping"], {}, duration, conns, out)
        client.conn.close()
    ApiToken.objects.filter(name="bench").delete()
    throttle += throttle_cost.in_process()
    return write_report(
        scale=scale, engine=engine, figures=figures, throughput=(detail, ping), connections=conns,
        docs=options.get("docs", False), out=out, throttle=throttle,
    )  # fmt: skip


def _load(port, paths, headers, duration, conns, out) -> LoadResult:
    """A failed load run is reported as such; it does not throw away the latency figures."""
    try:
        return run_load(port, paths, headers, duration=duration, connections=conns)
    except Exception as exc:  # wrk missing output, a crash: the report says so
        out.write(f"  load generator failed: {exc!r}\n")
        return LoadResult("failed", 0.0, 0, 1, None, None)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
