"""Quote numbers under concurrent creates (PostgreSQL: real row locks between connections). Each thread
creates a quote in its own transaction, all starting at once; every number is different and none is
skipped, because the year's counter row is locked while it is raised."""

import threading

import pytest
from django.db import connection, connections, transaction

from crm.quotes.models import Quote, QuoteCounter
from crm.quotes.services import quotes

THREADS = 6

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),  # as every transactional test here
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"),
]


def test_concurrent_creates_get_distinct_consecutive_numbers(rep_a, deal):
    barrier = threading.Barrier(THREADS)
    numbers, errors = [], []

    def create():
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                quote = quotes.quote_create(
                    actor=rep_a,
                    data={"deal_id": deal.pk, "lines": [{"description": "x", "quantity": 1, "unit_price": 1}]},
                ).obj
                numbers.append(quote.number)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(set(numbers)) == THREADS
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, THREADS + 1))
    assert Quote.objects.count() == THREADS and QuoteCounter.objects.get().last == THREADS
