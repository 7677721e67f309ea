"""The data of `crm bench sales` (crm/orders/bench.py), in the benchmark's own database: 100,000 products
priced in the standard book, one company with 10,000 orders (two lines each) and one with none, a deal
with a draft quote, and an admin. Catalogue, orders and lines are bulk-written (the seed measures
reads, not the services: as crm/bench/seed.py); the search index rows come from
``crm.search.index.rebuild`` (what the services would have written), the purchase stats from
``crm.orders.stats.refresh``, the deal and quote from their services. Idempotent: a seeded database is
kept (the figures then start at once)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from crm.orders import stats
from crm.orders.models import Order, OrderLine, OrderStatus
from crm.products.models import PriceBook, PriceBookEntry, Product
from crm.records.models import Company
from crm.search import index

PRODUCTS = 100_000
ORDERS = 10_000
LINES_PER_ORDER = 2
BUSY, QUIET = "Busy Buyer Ltd", "Quiet Buyer Ltd"
# Product names: two words from these lists and a number, so a word search finds from a handful to
# thousands of products (the figures name which).
ADJECTIVES = ["Compact", "Heavy", "Premium", "Basic", "Smart", "Outdoor", "Modular", "Silent", "Rapid", "Eco"]
NOUNS = ["Widget", "Bracket", "Sensor", "Cable", "Valve", "Pump", "Router", "Panel", "Filter", "Drill"]
CHUNK = 5_000
CURRENCY = settings.DEFAULT_CURRENCY  # the organization's: the only one a fresh database enables


def admin():
    users = get_user_model().objects
    return users.filter(username="bench-admin").first() or users.create_superuser("bench-admin", "b@bench.example")


def seed(out) -> dict:
    """The data (what is there already is kept); ``{"busy": id, "quiet": id, "quote": id}``."""
    user = admin()
    rnd = random.Random(14)
    if Product.objects.count() < PRODUCTS:
        _products(user, rnd, out)
    busy, quiet = (Company.objects.get_or_create(name=n, defaults={"owner": user})[0] for n in (BUSY, QUIET))
    if not Order.objects.filter(company=busy).exists():
        _orders(user, busy, rnd, out)
    stats.refresh(company_ids=[busy.pk, quiet.pk])  # the stats as this version of the code keeps them
    if connection.vendor == "postgresql":
        # Fresh statistics: on a busy machine autovacuum lags the seed, and with the row counts of an
        # empty table the planner joined 10,000 matches to 100,000 price entries by nested loop (minutes).
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"busy": busy.pk, "quiet": quiet.pk, "quote": _quote(user, quiet).pk, "admin": user}


def _products(user, rnd: random.Random, out) -> None:
    book = PriceBook.objects.get(is_standard=True)
    now = timezone.now()
    for start in range(Product.objects.count(), PRODUCTS, CHUNK):
        with transaction.atomic():
            made = Product.objects.bulk_create(
                [
                    Product(
                        sku=f"SKU-{n:06d}",
                        name=f"{rnd.choice(ADJECTIVES)} {rnd.choice(NOUNS)} {n}",
                        category=rnd.choice(NOUNS),
                        owner=user,
                        created_at=now,
                        updated_at=now,
                    )
                    for n in range(start, min(PRODUCTS, start + CHUNK))
                ]
            )
            PriceBookEntry.objects.bulk_create(
                [
                    PriceBookEntry(
                        price_book=book,
                        product_id=p.pk,
                        currency=CURRENCY,
                        unit_price=Decimal(rnd.randrange(100, 100_000)) / 100,
                    )
                    for p in made
                ]
            )
    started = timezone.now()
    index.rebuild(["product"])
    out.write(f"products: {PRODUCTS:,} and their search rows ({(timezone.now() - started).total_seconds():.0f} s)")


def _orders(user, company: Company, rnd: random.Random, out) -> None:
    """Ten years of orders, two lines each on random products; a few cancelled."""
    first_product = Product.objects.order_by("pk").values_list("pk", flat=True).first()
    today = timezone.localdate()
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    number=f"BENCH-{n:05d}",
                    company=company,
                    owner=user,
                    order_date=today - dt.timedelta(days=rnd.randrange(3650)),
                    currency=CURRENCY,
                    status=OrderStatus.CANCELLED if n % 50 == 0 else OrderStatus.PAID,
                    subtotal=Decimal("200.00"),
                    total=Decimal("240.00"),
                    tax_total=Decimal("40.00"),
                )
                for n in range(ORDERS)
            ],
            batch_size=2000,
        )
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=o,
                    position=i,
                    product_id=first_product + rnd.randrange(2000),
                    quantity=Decimal(1),
                    unit_price=Decimal(100),
                    tax_rate=Decimal(20),
                    net=Decimal(100),
                    tax=Decimal(20),
                    total=Decimal(120),
                )
                for o in orders
                for i in range(LINES_PER_ORDER)
            ],
            batch_size=4000,
        )
    out.write(f"orders: {ORDERS:,} of {company.name}, {ORDERS * LINES_PER_ORDER:,} lines")


def _quote(user, company: Company):
    """A draft quote on the standard book (the editor's product search prices what it finds)."""
    from crm.quotes.models import Quote
    from crm.quotes.services.quotes import quote_create
    from crm.records.models import Pipeline
    from crm.records.services.deals import deal_create

    found = Quote.objects.filter(deal__company=company).first()
    if found:
        return found
    pipeline = Pipeline.objects.order_by("pk").first() or _pipeline(user)
    deal = deal_create(
        actor=user,
        data={"name": "Bench deal", "currency": CURRENCY, "pipeline_id": pipeline.pk, "company_id": company.pk},
    ).obj
    book = PriceBook.objects.get(is_standard=True)
    return quote_create(actor=user, data={"deal_id": deal.pk, "price_book_id": book.pk, "lines": []}).obj


def _pipeline(user):
    from crm.records.services.pipelines import pipeline_create, stage_create

    pipeline = pipeline_create(actor=user, data={"name": "Sales", "is_default": True})
    for order, (name, probability) in enumerate((("Qualify", 10), ("Proposal", 50))):
        stage_create(actor=user, pipeline=pipeline, data={"name": name, "order": order, "probability": probability})
    stage_create(actor=user, pipeline=pipeline, data={"name": "Won", "order": 2, "probability": 100, "is_won": True})
    stage_create(actor=user, pipeline=pipeline, data={"name": "Lost", "order": 3, "probability": 0, "is_lost": True})
    return pipeline
