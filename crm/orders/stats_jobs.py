"""Purchase stats follow the exchange rates: an order whose currency had no rate for its date is
counted apart (``unconverted``) and left out of the total spent; a rate entered later for that date,
changed or deleted changes what its orders convert to. Each rate write (crm/money/services.py
``RATE_HOOKS``, after commit) enqueues the "orders.stats_for_rate" job, which refreshes in the worker
the customers with an order in that currency dated on or after the rate's date (a rate applies until
the next later one): possibly thousands of customers, so never inside the admin's request."""

from __future__ import annotations

import datetime as dt

from crm.automation import jobs
from crm.orders import stats
from crm.orders.models import Order

JOB = "orders.stats_for_rate"
CHUNK = 500


def on_rate(currency: str, date: dt.date) -> None:
    if Order.objects.filter(currency=currency, order_date__gte=date).exists():
        jobs.enqueue(JOB, {"currency": currency, "date": date.isoformat()})


def customers_of(currency: str, date: dt.date) -> tuple[set[int], set[int]]:
    """(company ids, contact ids) with an order in ``currency`` dated on or after ``date``."""
    rows = Order.objects.filter(currency=currency, order_date__gte=date).values_list("company_id", "contact_id")
    companies, contacts = set(), set()
    for company, contact in rows.distinct():
        companies.add(company)
        contacts.add(contact)
    return companies - {None}, contacts - {None}


@jobs.handler(JOB)
def refresh_for_rate(job) -> dict:
    companies, contacts = customers_of(job.payload["currency"], dt.date.fromisoformat(job.payload["date"]))
    stats.refresh(company_ids=sorted(companies), contact_ids=sorted(contacts))
    return {"companies": len(companies), "contacts": len(contacts)}
