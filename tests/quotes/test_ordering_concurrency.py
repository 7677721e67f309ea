"""An accepted quote ordered several times at once (PostgreSQL: real row locks between connections):
one order, every other call refused with 409 naming it, because the quote's row is locked while its
version is checked and linked."""

import threading

import pytest
from django.db import connection, connections

from crm.core.errors import Conflict
from crm.orders.models import Order
from crm.quotes.models import Quote
from crm.quotes.services import ordering
from tests.quotes.test_quote_ordering import accepted, customer_deal  # noqa: F401 - the fixture

THREADS = 4

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"),
]


def test_one_order_when_asked_at_once(rep_a, customer_deal):  # noqa: F811
    quote = accepted(rep_a, customer_deal)
    barrier = threading.Barrier(THREADS)
    made, refused, errors = [], [], []

    def order():
        try:
            barrier.wait(timeout=30)
            made.append(ordering.order_from_quote(Quote.objects.get(pk=quote.pk), actor=rep_a).obj.pk)
        except Conflict as exc:
            refused.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=order) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(made) == 1 and refused == ["quote_has_order"] * (THREADS - 1)
    assert list(Order.objects.values_list("pk", flat=True)) == made
    assert Quote.objects.get(pk=quote.pk).latest().order_id == made[0]
