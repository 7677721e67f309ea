"""`crm bench seed`: a realistic CRM at a given scale, written with bulk inserts.

Users, teams, pipelines, tags and custom field definitions go through the ORM (a few dozen rows);
everything else is generated as tuples and bulk-written (crm.bench.bulk). A seeded random
generator makes the data the same on every run. Ownership is skewed (Zipf): a few reps own most
records, as in real teams, and a few contacts have thousands of activities.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import random
import time
import traceback
from collections.abc import Callable, Iterator

from django.contrib.auth.models import User
from django.db import connection, transaction

from crm.access.models import Profile, Role, Team
from crm.bench import seed_objects
from crm.bench import seed_tables as tables
from crm.bench.bulk import BulkWriter
from crm.bench.pools import make_pools
from crm.bench.scales import Scale
from crm.bench.seed_world import (
    COLUMNS,
    REGIONS,
    SEARCH_NAME,
    SEED,
    SEGMENTS,
    STAGES,
    World,
    search_columns,
    search_table,
)
from crm.customization.models import CustomField
from crm.forecast import stays
from crm.records.models import Pipeline, Stage, Tag
from crm.sales import rebuild as sales_sums
from crm.search import words as search_words
from crm.search.registry import code_of, searchables


def seed(scale: Scale, *, progress: Callable[[str, int], None] | None = None, throwaway: bool = False) -> dict:
    """Fill the (empty, migrated) database; returns {"rows": n, "seconds": s, "tables": {...}}.

    ``throwaway``: the database is the benchmark's own fresh file (see BulkWriter)."""
    started = time.perf_counter()
    world = World(scale=scale, rng=random.Random(SEED), pools=make_pools(SEED), now=time.time())
    with transaction.atomic():
        _setup(world)
        for object_type in searchables():
            code_of(object_type)  # known before the row generator forks: it never touches the database
    world.search_table = search_table(connection.vendor)
    tables = [*COLUMNS, "search_name", world.search_table]
    writer = BulkWriter(on_rows=progress, tables=tables, throwaway=throwaway)
    writer.begin()
    counts: dict[str, int] = {}
    for table, rows in _generated(world):
        columns = COLUMNS.get(table) or (SEARCH_NAME if table == "search_name" else search_columns(writer.vendor))
        counts[table] = counts.get(table, 0) + writer.insert(table, columns, [rows])
    writer.reset_sequences(list(COLUMNS))
    writer.finish()
    counts["forecast_stay"] = stays.rebuild()  # moves loaded in bulk send no signal (crm/forecast/stays.py)
    counts["search_word"] = search_words.rebuild()  # the index rows above were written raw (PostgreSQL only)
    sums = sales_sums.rebuild()  # deals and activities were loaded raw (crm/sales/kept.py)
    counts.update(sums)
    rows = writer.total + counts["forecast_stay"] + counts["search_word"] + sum(sums.values())
    return {"rows": rows, "seconds": time.perf_counter() - started, "tables": counts}


def _generated(world: World) -> Iterator[tuple[str, list[tuple]]]:
    """The (table, rows) chunks in order, made by a forked child process: generating rows is about half
    of the work and SQLite has a single writer, so the child generates the next chunks while this process
    writes. The child only computes (it never touches the database connection it inherits)."""
    context = multiprocessing.get_context("fork")
    chunks = context.Queue(maxsize=8)
    child = context.Process(target=_produce, args=(world, chunks), daemon=True)
    child.start()
    try:
        while True:
            try:
                item = chunks.get(timeout=5)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the row generator exited with code {child.exitcode}") from None
                continue
            if item is None:
                break
            if item[0] == _FAILED:
                raise RuntimeError(f"the row generator failed:\n{item[1]}")
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


_FAILED = "<failed>"


def _produce(world: World, chunks) -> None:
    try:
        steps = (tables.companies, tables.contacts, tables.leads, tables.deals, tables.activities, tables.tasks)
        for step in (*steps, seed_objects.subscriptions):
            step(world, lambda table, rows: chunks.put((table, rows)))
        chunks.put(None)
    except BaseException:
        chunks.put((_FAILED, traceback.format_exc()))


def _setup(world: World) -> None:
    p = world.pools
    roles = {r.slug: r for r in Role.objects.all()}
    admin = User.objects.create(username="bench-admin", email="bench-admin@example.com", is_staff=True)
    Profile.objects.create(user=admin, role=roles["admin"])
    world.admin_id = admin.pk
    teams = [Team.objects.create(name=f"Bench team {i + 1}") for i in range(4)]
    users = []
    for i in range(40):
        first, last = p.first_names[i], p.last_names[i]
        users.append(User(username=f"{p.slugs[first]}.{p.slugs[last]}", first_name=first, last_name=last))
    for u in users:
        u.set_unusable_password()
        u.email = f"{u.username}@example.com"
    users = User.objects.bulk_create(users)
    for i, u in enumerate(users):
        manager = i < len(teams)
        Profile.objects.create(user=u, role=roles["sales-manager" if manager else "sales-rep"], team=teams[i % 4])
        if manager:
            teams[i].manager = u
            teams[i].save()
    world.owners = [u.pk for u in users]
    # Zipf-like: the first reps own far more than the last ones.
    world.owner_cum = list(itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(len(users))))
    world.usernames = {u.pk: u.username for u in [admin, *users]}
    tags = ["vip", "newsletter", "partner", "churn-risk", "upsell", "event-2024", "webinar", "trial", "beta"]
    tags += [f"segment-{i}" for i in range(21)]
    world.tag_ids = [Tag.objects.create(name=t).pk for t in tags]
    for name, default in (("Sales", True), ("Board", False)):
        pipeline = Pipeline.objects.create(name=name, is_default=default, order=0 if default else 1)
        stages = [
            Stage.objects.create(pipeline=pipeline, name=n, order=i, probability=prob)
            for i, (n, prob) in enumerate(STAGES)
        ]
        won = Stage.objects.create(pipeline=pipeline, name="Won", order=10, probability=100, is_won=True)
        lost = Stage.objects.create(pipeline=pipeline, name="Lost", order=11, probability=0, is_lost=True)
        world.pipelines[name] = {"id": pipeline.pk, "open": stages, "won": won, "lost": lost}
    CustomField.objects.create(
        object_type="contact", key="region", label="Region", field_type="choice", choices=REGIONS
    )
    CustomField.objects.create(object_type="contact", key="nps", label="NPS", field_type="integer")
    CustomField.objects.create(
        object_type="deal", key="segment", label="Segment", field_type="choice", choices=SEGMENTS
    )
    seed_objects.setup(world, admin)


# --- Bulk tables --------------------------------------------------------------------------------------------


def expected_rows(scale: Scale) -> int:
    """About how many rows seed() writes, for the progress bar."""
    return int(
        scale.companies * 5
        + scale.contacts * 6.35
        + scale.leads * 3
        + scale.deals * 7.5
        + scale.activities
        + scale.tasks
        + scale.custom_records * 2
    )
