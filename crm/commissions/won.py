"""A period's won deals as crm/commissions/batch.py credits them, read for many reps at once.

- ``won_deals(start, end)``: every deal won in [start, end) with its splits, in the order won (the local
  close day, then the id), as plain tuples. One query (the splits joined), run on the cursor: Django's
  per-row converters were most of the read's time (a datetime parsed and made aware per deal to take its
  local day). The day is found instead by comparing the stored instant with the period's local
  midnights, and each amount and percent is converted by Django's own converter once per distinct
  stored value (SQLite keeps them as floats; PostgreSQL gives Decimals, used as they are).
- ``category_shares(deals)``: {deal id: {category: fraction}} (crm/orders/deal_categories.py) for the
  deals that may have lines: the deals query says for each whether it has an accepted quote or a live
  order (two index probes a deal), so lines are read for those only, and not at all for a period
  without any (two more scans of the period's deals before).

calculate.py (one rep, through the ORM) stays the reference; tests/commissions compare the two."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connections
from django.db.models import Exists, OuterRef, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from crm.commissions.credits import day_range
from crm.commissions.models import DealSplit
from crm.orders.deal_categories import deal_categories
from crm.orders.models import VOID, Order
from crm.quotes.models import Quote, QuoteStatus
from crm.records.models import Deal, DealStatus

CHUNK = 500  # deal ids per category query: well under every database's limit on parameters
COLUMNS = (
    "id",
    "commission_splits__id",
    "closed_at",
    "name",
    "amount",
    "currency",
    "owner_id",
    "commission_splits__user_id",
    "commission_splits__percent",
    "quoted",
    "ordered",
)


# (local close day, deal id, name, amount, currency, owner id, {split user id: percent}, has lines)
WonDeal = tuple[dt.date, int, str, "Decimal | None", str, "int | None", dict, bool]


def _won(start: dt.date, end: dt.date):
    since, until = day_range(start, end)
    return {"status": DealStatus.WON, "closed_at__gte": since, "closed_at__lt": until}


def won_deals(start: dt.date, end: dt.date) -> list[WonDeal]:
    """The deals won in [start, end) in the order won; splits in their id order (as the ORM reads them)."""
    deals = Deal.objects.filter(**_won(start, end)).order_by("closed_at").annotate(**_line_sources())
    connection = connections[deals.db]
    if connection.vendor == "sqlite":  # the stored text: read as a datetime column it is parsed per row
        deals = deals.annotate(closed=Cast("closed_at", TextField()))
    columns = COLUMNS if connection.vendor != "sqlite" else tuple(c.replace("closed_at", "closed") for c in COLUMNS)
    sql, params = deals.values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    amount = _decimals(Deal._meta.get_field("amount"), connection)
    percent = _decimals(DealSplit._meta.get_field("percent"), connection)
    out: list[WonDeal] = []
    for day, block in _by_day(rows, start, end, connection):
        block.sort()  # (deal id, split id): the order won within a day (a deal's rows are one, or its splits)
        pk = splits = None
        for deal_id, split_id, _at, name, value, currency, owner_id, user_id, share, quoted, ordered in block:
            if deal_id != pk:
                pk, splits = deal_id, {}
                out.append((day, pk, name, amount(value), currency, owner_id, splits, bool(quoted or ordered)))
            if split_id is not None:
                splits[user_id] = percent(share)
    return out


def _line_sources() -> dict:
    """deal_categories' sources of lines, as a flag each: an accepted quote, a live order."""
    return {
        "quoted": Exists(Quote.objects.filter(deal_id=OuterRef("pk"), status=QuoteStatus.ACCEPTED)),
        "ordered": Exists(Order.objects.filter(deal_id=OuterRef("pk")).exclude(status__in=VOID)),
    }


def _by_day(rows: list[tuple], start: dt.date, end: dt.date, connection) -> list[tuple[dt.date, list]]:
    """Rows in close-instant order, cut into local days at each day's midnight in the current time zone,
    compared in the database's own form of an instant (SQLite: UTC text; PostgreSQL: aware datetimes)."""
    tz = timezone.get_current_timezone()
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    midnights = [connection.ops.adapt_datetimefield_value(dt.datetime.combine(d, dt.time.min, tzinfo=tz)) for d in days]
    out: list[tuple[dt.date, list]] = []
    i, block, last = 0, [], len(days) - 1
    for row in rows:
        while i < last and row[2] >= midnights[i + 1]:
            if block:
                out.append((days[i], block))
                block = []
            i += 1
        block.append(row)
    if block:
        out.append((days[i], block))
    return out


def _decimals(field, connection):
    """A stored value → the Decimal the ORM gives for ``field``, through the ORM's own converters (the
    backend's, then the field's), each distinct stored value converted once."""
    col = field.get_col(field.model._meta.db_table)
    converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    if not converters:
        return _same
    memo: dict = {}

    def read(value):
        try:
            return memo[value]
        except KeyError:
            converted = value
            for convert in converters:
                converted = convert(converted, col, connection)
            memo[value] = converted
            return converted

    return read


def _same(value):
    return value


def category_shares(deals: list[WonDeal]) -> dict[int, dict[str, Decimal]]:
    """{deal id: {category: fraction}} for the deals that have an accepted quote or a live order; the
    others have no lines, hence no shares, and are not read."""
    ids = [d[1] for d in deals if d[7]]
    out: dict[int, dict[str, Decimal]] = {}
    for i in range(0, len(ids), CHUNK):
        out.update(deal_categories(ids[i : i + CHUNK]))
    return out
