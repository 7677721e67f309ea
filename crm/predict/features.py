"""What a deal looked like at an instant: the facts a model learns from, read in bulk and as of a time.

Each deal comes with its own instant (``cutoffs``: deal id → aware datetime): training asks for each
closed deal as it was partway through its life, scoring asks for open deals as they are now. The
instants go into a temporary table, and every figure is one grouped query joined to it, so the cost is a
handful of queries whatever the number of deals (never one per deal). Nothing later than a deal's instant
is read:

- the deal's own values (amount, currency, owner, company, stage, stage time) are rolled back through
  the change log as crm/forecast/asof.py does (``roll_back``), and its stage at the instant is its last
  move up to it in the stage history (which also covers closes that were never logged);
- activities count when they happened *and* were recorded by the instant (a call logged after the close,
  back-dated, is not seen); the company's orders and the deal's quote/order product categories count
  when created by the instant; the owner's win rate counts deals the owner closed before the instant.

The company's size and industry and the lead source are read as they are now (they are not logged per
deal and rarely change); docs/predict.md says so.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from decimal import Decimal

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm.audit.models import ObjectChange
from crm.core import rawinsert
from crm.forecast.asof import roll_back
from crm.money.rates import RateTable
from crm.predict.vectors import CAP_DAYS, KINDS, vector  # noqa: F401  (re-exported: leads_features, callers)
from crm.records.models import Activity, ActivityLink, Company, Deal, DealStatus, Lead, Stage, StageChange

TABLE = "predict_cutoff"
RECENT = dt.timedelta(days=30)
DEAL_FIELDS = ("id", "owner_id", "company_id", "stage_id", "amount", "currency", "created_at", "stage_changed_at")


def _time(value) -> dt.datetime | None:
    """A time read by raw SQL: SQLite gives UTC text, PostgreSQL an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # SQLite's "YYYY-MM-DD HH:MM:SS[.ffffff]": fromisoformat reads it in a tenth of parse_datetime's time
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = parse_datetime(value)
    else:
        parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)  # = make_aware(parsed, UTC)


def _memo(fn):
    """``fn`` remembering its answers: the rows of a scoring run share one instant (and one 30 days before)."""
    seen: dict = {}

    def call(value):
        if value not in seen:
            seen[value] = fn(value)
        return seen[value]

    return call


class _Cutoffs:
    """The per-deal instants as a temporary table, dropped on exit."""

    def __init__(self, cutoffs: dict[int, dt.datetime]):
        self.cutoffs = cutoffs

    def __enter__(self):
        stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "text"
        adapt = _memo(connection.ops.adapt_datetimefield_value)  # scoring: one instant for every deal
        rows = [(pk, adapt(at), adapt(at - RECENT)) for pk, at in self.cutoffs.items()]
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TABLE} (deal_id bigint PRIMARY KEY, as_of {stamp}, recent {stamp})"
            )
        rawinsert.write(TABLE, ("deal_id", "as_of", "recent"), rows)  # COPY on PostgreSQL
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {TABLE}")  # a temporary table has no statistics: plans would guess
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    @staticmethod
    def rows(sql: str, params=()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _deals_then(cut: _Cutoffs) -> dict[int, dict]:
    """Each deal's values at its instant: today's, rolled back through the change log."""
    # Raw rows, not .values(): the ORM's per-value datetime converters were a tenth of a scoring run.
    # The amount comes as the driver gives it (a number on SQLite): it is made a Decimal below anyway.
    columns = ", ".join(f"d.{_q(name)}" for name in DEAL_FIELDS)
    current = {}
    for values in cut.rows(f"SELECT {columns} FROM {Deal._meta.db_table} d JOIN {TABLE} c ON c.deal_id = d.id"):
        row = dict(zip(DEAL_FIELDS, values, strict=True))
        row["created_at"], row["stage_changed_at"] = _time(row["created_at"]), _time(row["stage_changed_at"])
        current[row["id"]] = row
    log = ObjectChange._meta.db_table
    later: dict[int, list] = {}
    sql = (
        f"SELECT oc.object_id, oc.action, oc.changes FROM {log} oc JOIN {TABLE} c ON c.deal_id = oc.object_id "
        f"WHERE oc.object_type = %s AND oc.time > c.as_of ORDER BY oc.time, oc.id"
    )
    for object_id, action, changes in cut.rows(sql, [Deal.object_type]):
        later.setdefault(object_id, []).append((action, json.loads(changes) if isinstance(changes, str) else changes))
    out = {}
    for pk, row in current.items():
        then = roll_back(row, later.get(pk, [])) or dict(row)
        if then.get("amount") is not None:
            then["amount"] = Decimal(str(then["amount"]))
        for name in ("stage_changed_at", "created_at"):
            if isinstance(then.get(name), str):
                then[name] = dt.datetime.fromisoformat(then[name])
        out[pk] = then
    return out


def _stage_history(cut: _Cutoffs) -> dict[int, tuple]:
    """Per deal: (moves, moves back to an earlier stage, stage then, time of the last move) up to its instant."""
    moves, stages = StageChange._meta.db_table, Stage._meta.db_table
    counted = cut.rows(
        f"""SELECT c.deal_id, COUNT(*), SUM(CASE WHEN fs.{_q("order")} > ts.{_q("order")} THEN 1 ELSE 0 END)
            FROM {TABLE} c JOIN {moves} sc ON sc.deal_id = c.deal_id AND sc.changed_at <= c.as_of
            JOIN {stages} ts ON ts.id = sc.to_stage_id LEFT JOIN {stages} fs ON fs.id = sc.from_stage_id
            GROUP BY c.deal_id"""
    )
    last = cut.rows(
        f"""SELECT c.deal_id, sc.to_stage_id, sc.changed_at FROM {TABLE} c JOIN {moves} sc ON sc.id = (
              SELECT s2.id FROM {moves} s2 WHERE s2.deal_id = c.deal_id AND s2.changed_at <= c.as_of
              ORDER BY s2.changed_at DESC, s2.id DESC LIMIT 1)"""
    )
    where = {pk: (stage, _time(at)) for pk, stage, at in last}
    return {pk: (n, int(back or 0), *where.get(pk, (None, None))) for pk, n, back in counted}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _activities(cut: _Cutoffs, record_type: str = Deal.object_type) -> dict[int, dict]:
    """Per record (a deal, or a lead for crm/predict/leads_features.py): count per kind, count in the
    last 30 days and the last touch, as known at its instant."""
    links, acts = ActivityLink._meta.db_table, Activity._meta.db_table
    rows = cut.rows(
        f"""SELECT c.deal_id, a.kind, COUNT(*), SUM(CASE WHEN l.occurred_at >= c.recent THEN 1 ELSE 0 END),
                   MAX(l.occurred_at)
            FROM {TABLE} c JOIN {links} l ON l.record_type = %s AND l.record_id = c.deal_id AND l.occurred_at < c.as_of
            JOIN {acts} a ON a.id = l.activity_id AND a.created_at <= c.as_of
            GROUP BY c.deal_id, a.kind""",
        [record_type],
    )
    out: dict[int, dict] = {}
    for pk, kind, count, recent, last in rows:
        d = out.setdefault(pk, {"recent": 0, "last": None})
        d[kind] = count
        d["recent"] += int(recent or 0)
        last = _time(last)
        if last and (d["last"] is None or last > d["last"]):
            d["last"] = last
    return out


def _company_orders(cut: _Cutoffs) -> dict[int, int]:
    from crm.orders.models import Order

    orders, deals = Order._meta.db_table, Deal._meta.db_table
    rows = cut.rows(
        f"""SELECT c.deal_id, COUNT(o.id) FROM {TABLE} c JOIN {deals} d ON d.id = c.deal_id
            JOIN {orders} o ON o.company_id = d.company_id AND o.created_at <= c.as_of
              AND (o.deal_id IS NULL OR o.deal_id <> d.id) AND o.status NOT IN ('cancelled', 'returned')
            GROUP BY c.deal_id"""
    )
    return dict(rows)


def _categories(cut: _Cutoffs) -> dict[int, set[str]]:
    """Product categories on the deal's quotes and orders created by its instant."""
    from crm.orders.models import Order, OrderLine
    from crm.products.models import Product
    from crm.quotes.models import Quote, QuoteLine, QuoteVersion

    products = Product._meta.db_table
    quoted = cut.rows(
        f"""SELECT DISTINCT c.deal_id, p.category FROM {TABLE} c
            JOIN {Quote._meta.db_table} q ON q.deal_id = c.deal_id
            JOIN {QuoteVersion._meta.db_table} v ON v.quote_id = q.id AND v.created_at <= c.as_of
            JOIN {QuoteLine._meta.db_table} ql ON ql.version_id = v.id
            JOIN {products} p ON p.id = ql.product_id WHERE p.category <> ''"""
    )
    ordered = cut.rows(
        f"""SELECT DISTINCT c.deal_id, p.category FROM {TABLE} c
            JOIN {Order._meta.db_table} o ON o.deal_id = c.deal_id AND o.created_at <= c.as_of
            JOIN {OrderLine._meta.db_table} ol ON ol.order_id = o.id
            JOIN {products} p ON p.id = ol.product_id WHERE p.category <> ''"""
    )
    out: dict[int, set[str]] = {}
    for pk, category in [*quoted, *ordered]:
        out.setdefault(pk, set()).add(category)
    return out


class OwnerRecord:
    """Each owner's closes in time order, to count wins and closes before any instant (bisect).
    ``closes``: (owner, closed at, won) rows; by default every closed deal's."""

    def __init__(self, closes=None):
        self.times: dict[int, list[dt.datetime]] = {}
        self.wins: dict[int, list[int]] = {}  # running count of wins, aligned with times
        if closes is None:
            # Raw rows with _time, not values_list(): the ORM's datetime converter was most of this read.
            rows = _Cutoffs.rows(
                f"SELECT owner_id, closed_at, status FROM {Deal._meta.db_table} "
                "WHERE status IN (%s, %s) AND closed_at IS NOT NULL",
                [DealStatus.WON, DealStatus.LOST],
            )
            closes = [(owner, _time(at), status == DealStatus.WON) for owner, at, status in rows]
        for owner, at, won in sorted(closes, key=lambda r: (r[0] or 0, r[1])):
            times, wins = self.times.setdefault(owner, []), self.wins.setdefault(owner, [])
            times.append(at)
            wins.append((wins[-1] if wins else 0) + bool(won))

    def before(self, owner: int | None, at: dt.datetime) -> tuple[int, int]:
        """(wins, closes) of ``owner`` strictly before ``at``."""
        i = bisect.bisect_left(self.times.get(owner, []), at)
        return (self.wins[owner][i - 1], i) if i else (0, 0)


def extract(cutoffs: dict[int, dt.datetime], owners: OwnerRecord | None = None) -> dict[int, dict]:
    """Each deal's facts at its instant (see ``FACTS`` in docs/predict.md); deals that no longer exist are left out.
    ``owners``: the owners' record when the caller reads it once for several calls (scoring's chunks)."""
    if not cutoffs:
        return {}
    with _Cutoffs(cutoffs) as cut:
        deals = _deals_then(cut)
        history, acts = _stage_history(cut), _activities(cut)
        orders, categories = _company_orders(cut), _categories(cut)
        # The lead each deal was converted from: only these deals' (every converted lead, per chunk, before).
        converted = Lead.objects.filter(converted_deal_id__in=RawSQL(f"SELECT deal_id FROM {TABLE}", []))
        sources = dict(converted.exclude(source="").values_list("converted_deal_id", "source"))
    companies = {
        r["id"]: r
        for r in Company.objects.filter(pk__in={d["company_id"] for d in deals.values() if d["company_id"]}).values(
            "id", "size", "industry"
        )
    }
    stage_rows = {s["id"]: s for s in Stage.objects.values("id", "name", "probability")}
    owners = owners or OwnerRecord()
    table = RateTable({d["currency"] for d in deals.values()}, until=timezone.localdate())
    tz = timezone.get_current_timezone()  # once: localdate looks it up on every call
    out = {}
    for pk, d in deals.items():
        at = cutoffs[pk]
        moves, back, stage_then, moved_at = history.get(pk, (0, 0, None, None))
        stage_id = stage_then or d["stage_id"]
        stage_since = moved_at or d["stage_changed_at"] or d["created_at"]
        a = acts.get(pk, {})
        wins, closes = owners.before(d["owner_id"], at)
        company = companies.get(d["company_id"], {})
        out[pk] = {
            "amount": _converted(d["amount"], d["currency"], at, table, tz),
            "age_days": max((at - d["created_at"]).days, 0),
            "stage_id": stage_id,
            "stage": stage_rows.get(stage_id, {}).get("name", "?"),
            "stage_probability": stage_rows.get(stage_id, {}).get("probability", 0),
            "days_in_stage": max((at - stage_since).days, 0),
            "stage_moves": moves,
            "moves_back": back,
            "source": sources.get(pk, ""),
            "industry": company.get("industry", ""),
            "size": company.get("size", ""),
            "company_orders": orders.get(pk, 0),
            "categories": sorted(categories.get(pk, ())),
            **{kind: a.get(kind, 0) for kind in KINDS},
            "touches_30d": a.get("recent", 0),
            "days_since_touch": (at - a["last"]).days if a.get("last") else None,
            "owner_wins": wins,
            "owner_closed": closes,
        }
    return out


def _converted(amount, currency: str, at: dt.datetime, table: RateTable, tz) -> float:
    """The amount in the organization's currency at the rate of the instant's day (unconverted when no rate)."""
    if amount is None:
        return 0.0
    code = (currency or table.org).upper()
    if code == table.org:
        return float(amount)
    found = table.lookup(code, at.astimezone(tz).date())
    return float(Decimal(amount) * found[0]) if found else float(amount)
