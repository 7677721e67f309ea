"""The same external invoice sent twice at once makes one invoice (one customer, its payments once):
the unique constraint decides, the loser retries and updates. Real threads on PostgreSQL (SQLite
serializes writers, so there is no race to test there)."""

import dataclasses
import threading

import pytest
from django.db import connection

from crm.invoices.models import Invoice, Payment
from crm.invoices.services import external
from crm.records.models import Company


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs two writers: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_sends_make_one_invoice(admin_user, monkeypatch):
    both_checked = threading.Barrier(2, timeout=20)
    real_create = external.FEED.create
    creates = []

    def create_after_both_looked(**kwargs):
        creates.append(threading.get_ident())
        both_checked.wait()  # both requests found no invoice: both try to create it
        return real_create(**kwargs)

    monkeypatch.setattr(external, "FEED", dataclasses.replace(external.FEED, create=create_after_both_looked))
    results, errors = [], []

    def send(paid):
        try:
            saved, created = external.invoice_upsert_external(
                actor=admin_user,
                source="erp",
                external_id="I-1",
                data={
                    "customer": {"company_name": "Race Inc"},
                    "amount": "100",
                    "payments": [{"external_id": "p1", "amount": paid}],
                },
            )
            results.append((saved.obj.pk, created))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(p,)) for p in ("10", "20")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(creates) == 2  # the race really happened
    assert sorted(created for _, created in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert Invoice.objects.count() == 1 and Company.objects.count() == 1 and Payment.objects.count() == 1
