"""The one pass (crm/commissions/batch.py, its deals read by crm/commissions/won.py) against the per-rep
reference (crm/commissions/calculate.py ``compute``) on randomly generated periods: deals closed at the
edges of local days in a time zone whose offset changes within the period, at the period's first and
last instants, with up to three splits in cents, empty amounts, two currencies, category lines from an
accepted quote or a live order (a cancelled order's do not count), quotas that credits cross."""

import datetime as dt
import random
import zoneinfo
from decimal import Decimal

import pytest
from django.test import override_settings

from crm.commissions import batch, calculate, plans
from crm.orders.services.orders import order_create, order_set_status
from crm.products.models import Product
from crm.quotes.models import Quote, QuoteStatus
from crm.quotes.services.quotes import quote_create
from crm.records.models import Deal
from tests.commissions.test_batch import _same
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # summer time from 2026-03-29 02:00 (a 23-hour day)
MARCH, APRIL = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def _instant(rnd: random.Random) -> dt.datetime:
    """A moment in or just outside March 2026, Berlin time, often on a day's edge."""
    day = MARCH + dt.timedelta(days=rnd.randint(-1, 31))  # 28 February to 1 April
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=BERLIN)
    return rnd.choice(
        [
            midnight,
            midnight - dt.timedelta(microseconds=1),
            midnight + dt.timedelta(hours=rnd.randint(0, 23), minutes=rnd.randint(0, 59)),
            dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC),  # the last second before the clocks go on
            dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC),  # midnight of 1 April in Berlin: April's
        ]
    )


def _splits(rnd: random.Random, owner, reps) -> list[dict]:
    others = rnd.sample([r for r in reps if r != owner], rnd.randint(1, 2))
    shares = [Decimal(rnd.randint(100, 4000)) / 100 for _ in others]
    owner_share = Decimal(100) - sum(shares)
    return [{"user_id": owner.pk, "percent": str(owner_share)}] + [
        {"user_id": r.pk, "percent": str(s)} for r, s in zip(others, shares, strict=True)
    ]


def _lines(rnd: random.Random, hardware) -> list[dict]:
    price = str(Decimal(rnd.randint(100, 90000)) / 100)
    return [
        {"product_id": hardware.pk, "description": "Box", "quantity": "1", "unit_price": price},
        {"description": "Set-up", "quantity": "1", "unit_price": "100"},
    ]


def _deals(rnd, reps, won, customer, admin_user, hardware, n: int) -> None:
    for i in range(n):
        owner = rnd.choice(reps)
        amount = None if rnd.random() < 0.05 else str(Decimal(rnd.randint(1, 9_000_000)) / 100)
        deal = won(owner, amount or "0", MARCH, currency=rnd.choice(["USD", "EUR"]), name=f"D{i}")
        Deal.objects.filter(pk=deal.pk).update(closed_at=_instant(rnd), amount=amount, company=customer)
        if rnd.random() < 0.3:
            plans.splits_set(deal, actor=admin_user, splits=_splits(rnd, owner, reps))
        source = rnd.random()
        if source < 0.15:  # an accepted quote (its status set directly: sending renders a PDF)
            quote = quote_create(actor=admin_user, data={"deal_id": deal.pk, "lines": _lines(rnd, hardware)}).obj
            Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.ACCEPTED)
        elif source < 0.35:
            data = {"company_id": customer.pk, "deal_id": deal.pk, "currency": deal.currency,
                    "order_date": MARCH, "lines": _lines(rnd, hardware)}  # fmt: skip
            order = order_create(actor=admin_user, data=data).obj
            if rnd.random() < 0.3:
                order_set_status(order, actor=admin_user, status="cancelled")


@pytest.mark.parametrize("seed", [1, 2])
def test_random_periods_equal_the_reference(seed, admin_user, plan, assign, won, customer, rates):
    rnd = random.Random(seed)
    with override_settings(TIME_ZONE="Europe/Berlin"):
        reps = [UserFactory(role="sales-rep") for _ in range(5)]
        hardware = Product.objects.create(sku=f"HW{seed}", name="Box", category="Hardware")
        tiered = plan("Tiers", "4.5", tiers=[(50, 6), (100, "8.25"), (150, 12)],
                      category_rates=[{"category": "HARDWARE", "rate": "10"}])  # fmt: skip
        flat = plan("Flat", 7)
        for i, rep in enumerate(reps):
            quota = None if i == 4 else str(rnd.randint(5, 400) * 1000)
            assign(rep, flat if i == 4 else tiered, "2026-03", quota=quota)
        _deals(rnd, reps, won, customer, admin_user, hardware, n=60)
        rows = batch.of_period("month", MARCH)
        one_pass = batch.compute_many(rows)
        lines = 0
        for a in rows:
            ref = calculate.compute(a)
            _same(one_pass[a.pk], ref)
            lines += len(ref.lines)
        assert lines > 40  # the period holds most of the deals, some of them several times (splits)


def _fingerprint_before(result) -> str:
    """statements.fingerprint as it was written (every value through ``_plain``), for the versions stored."""
    import hashlib
    import json

    from crm.commissions.statements import LINE_FIELDS, TOTALS, _plain

    content = {
        "plan": [result.plan.pk, result.plan.name],
        "currency": result.currency,
        "totals": {k: _plain(getattr(result, k)) for k in TOTALS},
        "lines": [[_plain(getattr(line, f)) for f in LINE_FIELDS] for line in result.lines],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def test_the_fingerprint_is_the_one_stored_versions_hold():
    from crm.commissions.models import CommissionPlan, LineKind
    from crm.commissions.statements import fingerprint

    day, d, line = dt.date(2026, 3, 2), Decimal, calculate.Line
    lines = [
        line("deal", "Big one", "tier 1: 5 %", d("12.50"), "deal", 7, day, d("10.00"), "EUR", d("11.00"), d("100")),
        line(LineKind.CLAWBACK, "SO-1 cancelled", "clawback", d("-1.5"), "order", 3, day, None, "", d("-30"), None),
        line(LineKind.ADJUSTMENT, "Spiff «x»", "adjustment by Ann on 2026-03-02", d("25"), date=day),
    ]
    result = calculate.Result(CommissionPlan(pk=4, name="Plan"), None, "USD", None, d("11.00"), None, lines)
    result.earned, result.total, result.cap_note = d("12.50"), d("36.00"), "cap applied last: x"
    assert fingerprint(result) == _fingerprint_before(result)
