"""The one-pass computation (crm/commissions/batch.py) against the per-rep reference
(crm/commissions/calculate.py ``compute``) on a generated period that has every rule in it, and its
query count, which must not grow with the number of reps."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.commissions import batch, calculate, plans, statements
from crm.commissions.models import LineKind
from crm.core import clock
from crm.orders.services.orders import order_create, order_set_status
from crm.products.models import Product
from tests.commissions.conftest import D, at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MAY, APRIL = D(2026, 5, 1), D(2026, 4, 1)


@pytest.fixture
def generated(admin_user, plan, assign, won, customer, rates):
    """make(n_reps, seed) -> the reps: deals, splits, EUR amounts, category lines, a cap, a plan
    without quota, an orders plan, clawbacks of April wins cancelled in May, adjustments."""

    def make(n_reps: int, seed: int = 15):
        rnd = random.Random(seed)
        reps = [UserFactory(role="sales-rep") for _ in range(n_reps)]
        hardware = Product.objects.create(sku=f"HW{seed}{n_reps}", name="Box", category="Hardware")
        hunters = plan(f"Hunters {n_reps}", 5, tiers=[(100, 8), (150, 12)], cap="900", clawback_days=45,
                       category_rates=[{"category": "hardware", "rate": "10"}])  # fmt: skip
        farmers, by_orders = plan(f"Farmers {n_reps}", 7), plan(f"Orders {n_reps}", 5, basis="orders")
        for i, rep in enumerate(reps):
            chosen = by_orders if i == n_reps - 1 else farmers if i % 3 == 2 else hunters
            quota = None if chosen is farmers else str(rnd.choice([3000, 8000, 20000]))
            for period in ("2026-04", "2026-05"):
                assign(rep, chosen, period, quota=quota)
        for n in range(6 * n_reps):
            owner = rnd.choice(reps)
            day = D(2026, rnd.choice([4, 5]), rnd.randint(1, 30))
            deal = won(owner, str(rnd.randint(5, 400) * 10), day, currency=rnd.choice(["USD", "EUR"]), name=f"D{n}")
            deal.company = customer
            deal.save()
            if rnd.random() < 0.3:
                other = rnd.choice([r for r in reps if r != owner])
                parts = [{"user_id": owner.pk, "percent": "70"}, {"user_id": other.pk, "percent": "30"}]
                plans.splits_set(deal, actor=admin_user, splits=parts)
            if rnd.random() < 0.4:
                lines = [{"product_id": hardware.pk, "quantity": "1", "unit_price": str(rnd.randint(1, 50) * 10)},
                         {"description": "Set-up", "quantity": "1", "unit_price": "100"}]  # fmt: skip
                data = {"company_id": customer.pk, "deal_id": deal.pk, "currency": deal.currency,
                        "order_date": day, "lines": lines}  # fmt: skip
                order = order_create(actor=admin_user, data=data).obj
                if day.month == 4 and rnd.random() < 0.6:
                    with clock.at(at(D(2026, 5, rnd.randint(1, 28)))):
                        order_set_status(order, actor=admin_user, status=rnd.choice(["cancelled", "returned"]))
        for rep in reps[:2]:
            statements.adjustment_add(actor=admin_user, rep_id=rep.pk, period="2026-05", amount="25", note="Spiff")
        return reps

    return make


def _same(one, ref) -> None:
    assert one.lines == ref.lines  # every field of every line, in order
    for name in statements.TOTALS + ("currency",):
        assert getattr(one, name) == getattr(ref, name), name
    assert (one.plan.pk, one.period.key) == (ref.plan.pk, ref.period.key)
    assert statements.fingerprint(one) == statements.fingerprint(ref)


def test_one_pass_equals_the_per_rep_reference(generated):
    reps = generated(7)
    seen = set()
    for start in (APRIL, MAY):
        rows = batch.of_period("month", start)
        assert len(rows) == len(reps)
        one_pass = batch.compute_many(rows)
        for a in rows:
            ref = calculate.compute(a)
            _same(one_pass[a.pk], ref)
            for line in ref.lines:
                seen.add(line.kind)
                seen |= {"split"} if line.split_percent not in (None, 100) else set()
                seen |= {"category"} if "category" in line.rule else set()
                seen |= {"tier 2"} if "tier 2" in line.rule else set()
                seen |= {"EUR"} if line.original_currency == "EUR" else set()
            seen |= {"cap"} if ref.cap_note else set()
    # The generated period exercises every rule, or the comparison proves little.
    assert seen >= {"deal", "order", LineKind.CLAWBACK, LineKind.ADJUSTMENT, "split", "category", "tier 2", "EUR"}
    assert "cap" in seen


def test_a_subset_of_reps_gets_the_same_statements(generated):
    reps = generated(4)
    everyone = batch.compute_many(batch.of_period("month", MAY))
    some = batch.of_period("month", MAY, rep_ids=[reps[1].pk, reps[3].pk])
    assert [a.rep_id for a in some] == sorted([reps[1].pk, reps[3].pk])
    for a, result in batch.compute_many(some).items():
        _same(result, everyone[a])


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_one_pass_query_count_does_not_grow_with_the_reps(generated):
    """The same period read for 2 of its reps (a deals plan, an orders plan) and for all 10: the same
    queries (a fixed set: assignments and plans, quotas, deals, splits, lines, rates, clawbacks and the
    periods they were paid in, adjustments); the per-rep reference asks more for every rep."""
    reps = generated(10, seed=1)
    two = _queries(lambda: batch.compute_many(batch.of_period("month", MAY, rep_ids=[reps[0].pk, reps[-1].pk])))
    ten = _queries(lambda: batch.compute_many(batch.of_period("month", MAY)))
    per_rep = _queries(lambda: [calculate.compute(a) for a in batch.of_period("month", MAY)])
    assert two == ten <= 40
    assert per_rep > 4 * ten


def test_recalculating_a_period_that_did_not_change_writes_nothing_in_constant_queries(generated):
    reps = generated(8, seed=3)
    first = statements.recalculate_many(batch.of_period("month", MAY))
    assert sum(created for _, created in first.values()) == 6  # the two adjusted reps have their version 1
    again = {}
    two = _queries(
        lambda: statements.recalculate_many(batch.of_period("month", MAY, rep_ids=[reps[0].pk, reps[-1].pk]))
    )
    eight = _queries(lambda: again.update(statements.recalculate_many(batch.of_period("month", MAY))))
    assert len(again) == 8 and not any(created for _, created in again.values())
    assert two == eight
