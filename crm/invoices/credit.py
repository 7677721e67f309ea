"""A company's credit position for its page: what it owes, what is overdue (count, amount, oldest
days overdue) and its open invoices, in the organization's currency.

Summed in the database (one grouped query per currency over the indexed company/status/due date
columns, and the ``balance`` the services keep), so a company with 10,000 invoices costs the same few
queries as one with ten. Each currency's balance is converted at the rate in force today (the latest
dated on or before today, crm/money/rates.py): what is owed now is worth today's rate, and the card
names the rates it used. A currency with no rate is never converted at 1.0: its amount is shown in
its own currency with a message naming the currency and the date. Credit notes lower the balance of
the invoice they credit (services/payments.py settle), refunds raise it again; the card lists both."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from crm.invoices.models import OWING, Invoice, InvoiceKind, InvoiceStatus, Payment
from crm.money.currencies import organization_currency, quantize
from crm.money.rates import MissingRate, RateTable

OPEN_SHOWN = 10


def credit(user, company, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    owing = Invoice.objects.restrict(user).filter(company=company, status__in=OWING, balance__gt=0)
    late = Q(due_date__lt=today)
    groups = list(
        owing.values("currency")
        .annotate(
            owed=Sum("balance"),
            count=Count("id"),
            overdue=Sum("balance", filter=late),
            overdue_count=Count("id", filter=late),
            oldest_due=Min("due_date", filter=late),
        )
        .order_by("currency")
    )
    org = organization_currency()
    table = RateTable({g["currency"] for g in groups}, until=today)
    owed, overdue, rates, unconverted, missing = Decimal(0), Decimal(0), [], [], []
    for g in groups:
        found = table.lookup(g["currency"], today)
        if found is None:
            missing.append(MissingRate(g["currency"], today).message)
            unconverted.append({"currency": g["currency"], "owed": g["owed"], "overdue": g["overdue"] or 0})
            continue
        rate, rate_date = found
        owed += g["owed"] * rate
        overdue += (g["overdue"] or 0) * rate
        if g["currency"] != org:
            rates.append({"currency": g["currency"], "rate": rate, "date": rate_date})
    oldest = min((g["oldest_due"] for g in groups if g["oldest_due"]), default=None)
    return {
        "company": company,
        "currency": org,
        "today": today,
        "owed": quantize(owed, org),
        "overdue": quantize(overdue, org),
        "open_count": sum(g["count"] for g in groups),
        "overdue_count": sum(g["overdue_count"] for g in groups),
        "oldest_days": (today - oldest).days if oldest else 0,
        "rates": rates,
        "unconverted": unconverted,
        "missing_rates": missing,
        "invoices": [(inv, inv.overdue_days(today)) for inv in owing.order_by("due_date", "id")[:OPEN_SHOWN]],
        **credits(user, company),
    }


def credits(user, company) -> dict:
    """What lowered the company's balance besides payments: its latest credit notes and refunds, and
    what it is owed back per currency (credit notes on invoices already paid, not yet refunded)."""
    seen = Invoice.objects.restrict(user).filter(company=company).exclude(status__in=UNCOUNTED)
    notes = seen.filter(kind=InvoiceKind.CREDIT_NOTE).select_related("credited_invoice")
    refunds = Payment.objects.filter(invoice__in=seen, is_refund=True).select_related("invoice")
    favour = seen.filter(balance__lt=0).values("currency").annotate(amount=Sum("balance")).order_by("currency")
    return {
        "credit_notes": list(notes.order_by("-issue_date", "-id")[:OPEN_SHOWN]),
        "refunds": list(refunds.order_by("-date", "-id")[:OPEN_SHOWN]),
        "in_favour": [{"currency": f["currency"], "amount": -f["amount"]} for f in favour],
    }


UNCOUNTED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
