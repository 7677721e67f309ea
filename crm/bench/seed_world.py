"""The benchmark seed's shared ground: constants, the tables' column lists, the generator's state
(World) and the helpers that turn values into the text rows the bulk writer loads."""

import json
import random
import time
from array import array
from dataclasses import dataclass, field

from crm.bench.pools import Pools
from crm.bench.scales import Scale
from crm.search.registry import row_key

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
        "direction", "outcome", "duration_minutes", "owner_id",
    ),
    "records_activitylink": ("id", "record_type", "record_id", "activity_id", "occurred_at"),
    "records_task": (
        "id", "version", "created_at", "updated_at", "custom_fields", "title", "description", "due_at",
        "reminder_at", "status", "priority", "completed_at", "assignee_id", "created_by_id",
    ),
    "records_tasklink": ("id", "record_type", "record_id", "task_id"),
    "objects_customrecord": (
        "id", "version", "created_at", "updated_at", "custom_fields", "name", "owner_id", "type_id",
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
    subscription_type_id: int = 0
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


def search_columns(vendor: str) -> tuple[str, ...]:
    return ("rowid", "kind", "object_id", "body") if vendor == "sqlite" else ("id", "kind", "object_id", "body")


def search_table(vendor: str) -> str:
    return "search_fts" if vendor == "sqlite" else "search_document"


def search_row(object_type: str, pk: int, text: str) -> tuple:
    return (row_key(object_type, pk), object_type, pk, text)


def name_row(object_type: str, pk: int, name_key: str) -> tuple:
    return (row_key(object_type, pk), object_type, pk, name_key)


def change_row(world: World, object_type: str, pk: int, name: str, owner: int, at: str) -> tuple:
    world.change_id += 1
    changes = '{"name": [null, ' + json.dumps(name) + "]}"
    return (world.change_id, at, world.usernames[owner], "create", object_type, pk, name[:255], changes, None,
            "import", owner)  # fmt: skip


# --- ORM setup: the few rows every later table refers to -------------------------------------------------


def pickers(rng: random.Random):
    """World.pick and World.upto as closures over the same generator: the hot loops call them millions
    of times, and a closure skips two attribute lookups per call (same numbers, same order)."""
    rand = rng.random

    def pick(seq):
        return seq[int(rand() * len(seq))]

    def upto(n: int) -> int:
        return int(rand() * n) + 1

    return pick, upto


def chunks_of(total: int):
    for start in range(1, total + 1, CHUNK):
        yield range(start, min(start + CHUNK, total + 1))
