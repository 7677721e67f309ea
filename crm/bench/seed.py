"""`crm bench seed`: a realistic CRM at a given scale, written with bulk inserts.

Users, teams, pipelines, tags and custom field definitions go through the ORM (a few dozen rows);
everything else is generated as tuples and bulk-written (crm.bench.bulk). A seeded random
generator makes the data the same on every run. Ownership is skewed (Zipf): a few reps own most
records, as in real teams, and a few contacts have thousands of activities.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import queue
import random
import time
import traceback
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import connection, transaction

from crm.access.models import Profile, Role, Team
from crm.bench.bulk import BulkWriter
from crm.bench.pools import Pools, make_pools
from crm.bench.scales import Scale
from crm.customization.models import CustomField
from crm.records.models import Pipeline, Stage, Tag
from crm.search.registry import code_of, row_key, searchables

CHUNK = 20_000
DAY = 86_400
YEAR = 365 * DAY
SEED = 5
STAGES = [("Qualification", 10), ("Needs analysis", 25), ("Proposal", 50), ("Negotiation", 75)]
COMPANY_SUFFIXES = ["Inc", "LLC", "Group", "Labs", "Partners", "Holdings", "Co", "Systems", "Solutions"]
FREE_DOMAINS = ["example.com", "example.net", "example.org"]
LIFECYCLE = ["subscriber", "lead", "marketing_qualified", "sales_qualified", "opportunity", "customer", "other"]
SOURCES = ["website", "referral", "event", "outbound", "partner", "ads", "import"]
REGIONS = ["amer", "emea", "apac"]
SEGMENTS = ["smb", "mid-market", "enterprise"]
SIZES = ["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+"]
KINDS = ["note", "call", "call", "email", "email", "meeting"]
LOST_REASONS = ["Price", "Timing", "Competitor", "No budget", "No decision"]

COLUMNS = {
    "records_company": (
        "id", "version", "created_at", "updated_at", "custom_fields", "street", "city", "region", "postal_code",
        "country", "name", "domain", "industry", "size", "annual_revenue", "phone", "website", "lifecycle_stage",
        "owner_id", "parent_id",
    ),
    "records_companydomain": ("id", "domain", "company_id"),
    "records_contact": (
        "id", "version", "created_at", "updated_at", "custom_fields", "street", "city", "region", "postal_code",
        "country", "first_name", "last_name", "name", "title", "email", "phone", "lifecycle_stage", "source",
        "email_opt_in", "email_opt_in_at", "email_opt_in_source", "company_id", "owner_id",
    ),
    "records_contactemail": ("id", "email", "kind", "is_primary", "contact_id"),
    "records_contactphone": ("id", "number", "kind", "is_primary", "contact_id"),
    "records_contact_tags": ("id", "contact_id", "tag_id"),
    "records_lead": (
        "id", "version", "created_at", "updated_at", "custom_fields", "first_name", "last_name", "name",
        "company_name", "title", "email", "phone", "website", "status", "disqualified_reason", "source", "score",
        "converted_at", "converted_company_id", "converted_contact_id", "converted_deal_id", "owner_id",
    ),
    "records_deal": (
        "id", "version", "created_at", "updated_at", "custom_fields", "name", "amount", "currency", "status",
        "expected_close_date", "probability", "probability_overridden", "lost_reason", "closed_at",
        "stage_changed_at", "company_id", "owner_id", "pipeline_id", "stage_id",
    ),
    "records_dealcontact": ("id", "role", "contact_id", "deal_id"),
    "records_stagechange": ("id", "changed_at", "changed_by_id", "deal_id", "from_stage_id", "to_stage_id"),
    "records_activity": (
        "id", "version", "created_at", "updated_at", "custom_fields", "kind", "subject", "body", "occurred_at",
        "direction", "outcome", "duration_minutes", "owner_id", "company_id", "contact_id", "deal_id", "lead_id",
    ),
    "records_task": (
        "id", "version", "created_at", "updated_at", "custom_fields", "title", "description", "due_at",
        "reminder_at", "status", "priority", "completed_at", "assignee_id", "company_id", "contact_id",
        "created_by_id", "deal_id", "lead_id",
    ),
    "audit_objectchange": (
        "id", "time", "user_name", "action", "object_type", "object_id", "object_repr", "changes", "request_id",
        "source", "user_id",
    ),
}  # fmt: skip
SEARCH_NAME = ("id", "kind", "object_id", "name_key")  # the folded names beside the text index


_DAYS: dict[int, str] = {}


def day(epoch: float) -> str:
    """The UTC date of ``epoch`` as YYYY-MM-DD (memoized: a few thousand distinct days)."""
    number = int(epoch) // DAY
    text = _DAYS.get(number)
    if text is None:
        text = _DAYS[number] = time.strftime("%Y-%m-%d", time.gmtime(number * DAY))
    return text


_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]  # by second of day


def ts(epoch: float) -> str:
    """A UTC timestamp as Django stores it on SQLite (and PostgreSQL parses in a UTC session)."""
    sec = int(epoch)
    micro = int((epoch - sec) * 1_000_000) or 1
    number, second = divmod(sec, DAY)
    text = _DAYS.get(number)
    if text is None:
        text = day(sec)
    return f"{text} {_CLOCK[second]}.{micro:06d}"


def phone_tokens(e164: str) -> str:
    """The folded search text of a US number, as crm.core.normalize.phone_search_tokens makes it."""
    national = e164[2:]
    return f"{e164[1:]} {national} {national[-7:]}"


@dataclass
class World:
    """What later tables need from earlier ones: ids, owners, domains, stages."""

    scale: Scale
    rng: random.Random
    pools: Pools
    now: float
    owners: list[int] = field(default_factory=list)
    owner_cum: list[float] = field(default_factory=list)
    usernames: dict[int, str] = field(default_factory=dict)
    admin_id: int = 0
    tag_ids: list[int] = field(default_factory=list)
    company_domain: list[str] = field(default_factory=list)
    company_name: list[str] = field(default_factory=list)
    contact_owner: array = field(default_factory=lambda: array("i"))
    contact_company: array = field(default_factory=lambda: array("i"))
    pipelines: dict[str, dict] = field(default_factory=dict)
    change_id: int = 0
    search_table: str = "search_fts"

    def pick(self, seq):
        """rng.choice without its rejection sampling: 5x cheaper, and uniform enough here."""
        return seq[int(self.rng.random() * len(seq))]

    def upto(self, n: int) -> int:
        """A number in 1..n."""
        return int(self.rng.random() * n) + 1

    def owner_ids(self, k: int) -> list[int]:
        return self.rng.choices(self.owners, cum_weights=self.owner_cum, k=k)

    def past(self, span: float = 3 * YEAR) -> float:
        return self.now - self.rng.random() * span

    def phone(self) -> str:
        r = self.rng.randrange
        return f"+1{r(201, 990)}{r(200, 1000)}{r(0, 10000):04d}"


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
        columns = COLUMNS.get(table) or (SEARCH_NAME if table == "search_name" else _search_columns(writer.vendor))
        counts[table] = counts.get(table, 0) + writer.insert(table, columns, [rows])
    writer.reset_sequences(list(COLUMNS))
    writer.finish()
    return {"rows": writer.total, "seconds": time.perf_counter() - started, "tables": counts}


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
        for step in (_companies, _contacts, _leads, _deals, _activities, _tasks):
            step(world, lambda table, rows: chunks.put((table, rows)))
        chunks.put(None)
    except BaseException:
        chunks.put((_FAILED, traceback.format_exc()))


def _search_columns(vendor: str) -> tuple[str, ...]:
    return ("rowid", "kind", "object_id", "body") if vendor == "sqlite" else ("id", "kind", "object_id", "body")


def search_table(vendor: str) -> str:
    return "search_fts" if vendor == "sqlite" else "search_document"


def _search_row(object_type: str, pk: int, text: str) -> tuple:
    return (row_key(object_type, pk), object_type, pk, text)


def _name_row(object_type: str, pk: int, name_key: str) -> tuple:
    return (row_key(object_type, pk), object_type, pk, name_key)


def _change(world: World, object_type: str, pk: int, name: str, owner: int, at: str) -> tuple:
    world.change_id += 1
    changes = '{"name": [null, ' + json.dumps(name) + "]}"
    return (world.change_id, at, world.usernames[owner], "create", object_type, pk, name[:255], changes, None,
            "import", owner)  # fmt: skip


# --- ORM setup: the few rows every later table refers to -------------------------------------------------


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


# --- Bulk tables --------------------------------------------------------------------------------------------


def _pickers(rng: random.Random):
    """World.pick and World.upto as closures over the same generator: the hot loops call them millions
    of times, and a closure skips two attribute lookups per call (same numbers, same order)."""
    rand = rng.random

    def pick(seq):
        return seq[int(rand() * len(seq))]

    def upto(n: int) -> int:
        return int(rand() * n) + 1

    return pick, upto


def _chunks(total: int):
    for start in range(1, total + 1, CHUNK):
        yield range(start, min(start + CHUNK, total + 1))


def _companies(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, _ = _pickers(world.rng)
    for ids in _chunks(world.scale.companies):
        owners = world.owner_ids(len(ids))
        rows, domains, search, names, changes = [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            w1, w2, suffix = pick(p.company_words), pick(p.company_words), pick(COMPANY_SUFFIXES)
            name = f"{w1} {w2} {suffix}"
            domain = f"{p.slugs[w1]}{p.slugs[w2]}{pk}.com"
            city, region, postal = pick(p.cities)
            phone = world.phone() if rng.random() < 0.5 else ""
            created = world.past()
            at = ts(created)
            rows.append((
                pk, 1, at, ts(created + rng.random() * (world.now - created)), "{}", pick(p.streets), city,
                region, postal, "United States", name, domain, pick(p.industries), pick(SIZES),
                f"{rng.randrange(100, 500_000) * 1000}.00", phone, f"https://{domain}", pick(LIFECYCLE),
                owner, None,
            ))  # fmt: skip
            domains.append((pk, domain, pk))
            name_key = f"{p.folded[w1]} {p.folded[w2]} {suffix.lower()}"
            names.append(_name_row("company", pk, name_key))
            text = f"{name_key} {domain.replace('.', ' ')}"
            search.append(_search_row("company", pk, f"{text} {phone_tokens(phone)}" if phone else text))
            changes.append(_change(world, "company", pk, name, owner, at))
            world.company_domain.append(domain)
            world.company_name.append(name)
        write("records_company", rows)
        write("records_companydomain", domains)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def _contacts(world: World, write) -> None:
    rng, p, n_companies = world.rng, world.pools, world.scale.companies
    pick, upto = _pickers(world.rng)
    email_id = phone_id = tag_row = 0
    for ids in _chunks(world.scale.contacts):
        owners = world.owner_ids(len(ids))
        rows, emails, phones, tags, search, names, changes = [], [], [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            first, last = pick(p.first_names), pick(p.last_names)
            name = f"{first} {last}"
            company = upto(n_companies) if rng.random() < 0.8 else 0
            domain = world.company_domain[company - 1] if company else pick(FREE_DOMAINS)
            email = f"{p.slugs[first]}.{p.slugs[last]}{pk}@{domain}"
            title = pick(p.titles) if rng.random() < 0.7 else ""
            phone = world.phone() if rng.random() < 0.7 else ""
            city, region, postal = pick(p.cities)
            created = world.past()
            at = ts(created)
            opt_in = rng.random() < 0.4
            custom = f'{{"region": "{pick(REGIONS)}", "nps": {rng.randrange(0, 11)}}}' if pk % 2 else "{}"
            rows.append((
                pk, 1, at, ts(created + rng.random() * (world.now - created)), custom, pick(p.streets), city,
                region, postal, "United States", first, last, name, title, email, phone, pick(LIFECYCLE),
                pick(SOURCES), int(opt_in), at if opt_in else None, "form" if opt_in else "", company or None,
                owner,
            ))  # fmt: skip
            world.contact_owner.append(owner)
            world.contact_company.append(company)
            email_id += 1
            emails.append((email_id, email, "work", 1, pk))
            texts = [p.folded[first], p.folded[last]]
            names.append(_name_row("contact", pk, f"{texts[0]} {texts[1]}"))
            if title:
                texts.append(p.folded[title])
            texts.append(email.replace(".", " ").replace("@", " "))
            if pk % 5 == 0:
                email_id += 1
                home = f"{p.slugs[first]}{pk}@example.net"
                emails.append((email_id, home, "home", 0, pk))
                texts.append(home.replace(".", " ").replace("@", " "))
            if phone:
                phone_id += 1
                phones.append((phone_id, phone, "mobile", 1, pk))
                texts.append(phone_tokens(phone))
            if rng.random() < 0.3:
                for tag in rng.sample(world.tag_ids, upto(2)):
                    tag_row += 1
                    tags.append((tag_row, pk, tag))
            search.append(_search_row("contact", pk, " ".join(texts)))
            changes.append(_change(world, "contact", pk, name, owner, at))
        write("records_contact", rows)
        write("records_contactemail", emails)
        write("records_contactphone", phones)
        write("records_contact_tags", tags)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def _leads(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, _ = _pickers(world.rng)
    statuses = ["new", "new", "working", "nurturing", "qualified", "disqualified"]
    for ids in _chunks(world.scale.leads):
        owners = world.owner_ids(len(ids))
        rows, search, names = [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            first, last = pick(p.first_names), pick(p.last_names)
            w1, suffix = pick(p.company_words), pick(COMPANY_SUFFIXES)
            company_name = f"{w1} {suffix}"
            email = f"{p.slugs[first]}{pk}@{p.slugs[w1]}.com"
            phone = world.phone() if rng.random() < 0.5 else ""
            created = world.past(YEAR)
            rows.append((
                pk, 1, ts(created), ts(created), "{}", first, last, f"{first} {last}", company_name,
                pick(p.titles), email, phone, "", pick(statuses), "", pick(SOURCES),
                rng.randrange(0, 100), None, None, None, None, owner,
            ))  # fmt: skip
            name_key = f"{p.folded[first]} {p.folded[last]}"
            names.append(_name_row("lead", pk, name_key))
            text = f"{name_key} {p.folded[w1]} {suffix.lower()} "
            text += email.replace(".", " ").replace("@", " ")
            search.append(_search_row("lead", pk, f"{text} {phone_tokens(phone)}" if phone else text))
        write("records_lead", rows)
        write(world.search_table, search)
        write("search_name", names)


def _deal_plan(world: World, pk: int) -> tuple[dict, str, list]:
    """(pipeline, status, stages passed through in order) for deal ``pk``."""
    rng = world.rng
    _, upto = _pickers(world.rng)
    if pk <= world.scale.board_open_deals:
        pipeline = world.pipelines["Board"]
        return pipeline, "open", pipeline["open"][: upto(len(STAGES))]
    pipeline = world.pipelines["Sales"]
    r = rng.random()
    passed = pipeline["open"][: min(upto(len(STAGES)), upto(len(STAGES)))]
    if r < 0.55:
        return pipeline, "open", passed
    if r < 0.8:
        return pipeline, "won", [*passed, pipeline["won"]]
    return pipeline, "lost", [*passed, pipeline["lost"]]


def _deals(world: World, write) -> None:
    rng, p, n_contacts = world.rng, world.pools, world.scale.contacts
    pick, upto = _pickers(world.rng)
    history_id = 0
    for ids in _chunks(world.scale.deals):
        owners = world.owner_ids(len(ids))
        rows, links, history, search, names, changes = [], [], [], [], [], []
        for pk, owner in zip(ids, owners, strict=True):
            pipeline, status, passed = _deal_plan(world, pk)
            phrase, word = pick(p.phrases), pick(p.company_words)
            name = f"{phrase} for {word}"
            contact = upto(n_contacts)
            company = world.contact_company[contact - 1] or None
            created = world.past(2 * YEAR)
            times = sorted(created + rng.random() * (world.now - created) for _ in passed)
            times[0] = created
            closed = ts(times[-1]) if status != "open" else None
            if status == "open":
                close_date = day(world.now + (upto(426) - 61) * DAY)
            else:
                close_date = day(times[-1])
            stage = passed[-1]
            at = ts(created)
            custom = f'{{"segment": "{pick(SEGMENTS)}"}}' if pk % 2 else "{}"
            rows.append((
                pk, 1, at, ts(max(times[-1], created)), custom, name, f"{rng.randrange(1, 200) * 500}.00", "USD",
                status, close_date, stage.probability, 0, pick(LOST_REASONS) if status == "lost" else "",
                closed, ts(times[-1]), company, owner, pipeline["id"], stage.pk,
            ))  # fmt: skip
            links.append((pk, "decision_maker", contact, pk))
            previous = None
            for when, s in zip(times, passed, strict=True):
                history_id += 1
                history.append((history_id, ts(when), owner, pk, previous.pk if previous else None, s.pk))
                previous = s
            name_key = f"{p.folded[phrase]} for {p.folded[word]}"
            search.append(_search_row("deal", pk, name_key))
            names.append(_name_row("deal", pk, name_key))
            changes.append(_change(world, "deal", pk, name, owner, at))
        write("records_deal", rows)
        write("records_dealcontact", links)
        write("records_stagechange", history)
        write(world.search_table, search)
        write("search_name", names)
        write("audit_objectchange", changes)


def _activities(world: World, write) -> None:
    rng, p = world.rng, world.pools
    pick, upto = _pickers(world.rng)
    n_contacts, n_deals = world.scale.contacts, world.scale.deals
    outcomes = ["connected", "left voicemail", "no answer", "busy"]
    for ids in _chunks(world.scale.activities):
        rows = []
        for pk in ids:
            # Skewed: low contact ids get far more activities (contact 1 gets thousands).
            contact = int(n_contacts * rng.random() ** 2.5) + 1
            kind = pick(KINDS)
            occurred = world.past()
            at = ts(occurred)
            company = world.contact_company[contact - 1] or None
            rows.append((
                pk, 1, at, at, "{}", kind, pick(p.phrases), pick(p.sentences), at,
                "outbound" if kind in ("call", "email") else "", pick(outcomes) if kind == "call" else "",
                rng.randrange(5, 60) if kind in ("call", "meeting") else None, world.contact_owner[contact - 1],
                company, contact, upto(n_deals) if rng.random() < 0.1 else None, None,
            ))  # fmt: skip
        write("records_activity", rows)


def _tasks(world: World, write) -> None:
    p, n_contacts = world.pools, world.scale.contacts
    pick, upto = _pickers(world.rng)
    statuses = ["open", "open", "in_progress", "done", "done", "cancelled"]
    priorities = ["low", "normal", "normal", "high", "urgent"]
    for ids in _chunks(world.scale.tasks):
        rows = []
        for pk in ids:
            contact = upto(n_contacts)
            owner = world.contact_owner[contact - 1]
            created = world.past(YEAR)
            due = created + upto(60) * DAY
            status = pick(statuses)
            rows.append((
                pk, 1, ts(created), ts(created), "{}", f"Follow up: {pick(p.phrases)}", "", ts(due),
                ts(due - 3600) if status == "open" else None, status, pick(priorities),
                ts(due) if status == "done" else None, owner, world.contact_company[contact - 1] or None, contact,
                owner, None, None,
            ))  # fmt: skip
        write("records_task", rows)


def expected_rows(scale: Scale) -> int:
    """About how many rows seed() writes, for the progress bar."""
    return int(
        scale.companies * 5
        + scale.contacts * 6.35
        + scale.leads * 3
        + scale.deals * 7.5
        + scale.activities
        + scale.tasks
    )
