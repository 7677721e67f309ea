"""The demo's invoices and payments: the accounting side of about a third of the demo companies, so
their pages show a credit position (crm/invoices/credit.py). Each such company has one to four invoices
issued over the past year, net 30, in the organization's currency: older ones mostly paid, some
partly paid, some unpaid past their due date (overdue), recent ones open and not yet due. Written
through the invoice service by the demo admin, payments with the invoice (validated, numbered, in the
change log like any other invoice), each at its issue date (crm/core/clock.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from crm.core import clock
from crm.demo.world import World
from crm.invoices.services.invoices import invoice_create

SHARE = 0.35  # of the companies
TERMS = dt.timedelta(days=30)
METHODS = ("bank transfer", "card", "direct debit")
FIRST = ((), (Decimal("0.4"),))  # the shares paid of the first two invoices


def save_invoices(world: World, companies) -> int:
    """Invoices for a seeded share of ``companies`` (saved records); the number made."""
    made = 0
    today = world.now.date()
    for company in companies:
        if not world.chance(SHARE):
            continue
        for _ in range(world.rng.randint(1, 4)):
            # The first two are overdue (one unpaid, one partly paid), so even a small demo shows both.
            issued = world.days_ago(60, 360) if made < len(FIRST) else world.days_ago(5, 360)
            data = _invoice(world, company, issued.date(), today, FIRST[made] if made < len(FIRST) else None)
            with clock.at(issued):
                invoice_create(actor=world.admin, data=data)
            made += 1
    return made


def _invoice(world: World, company, issued: dt.date, today: dt.date, shares=None) -> dict:
    amount = Decimal(world.rng.randrange(40, 2400) * 5)  # 200.00 to 11,995.00
    due = issued + TERMS
    data = {
        "company_id": company.pk,
        "amount": amount,
        "currency": settings.DEFAULT_CURRENCY,
        "issue_date": issued,
        "due_date": due,
        "notes": "Demo invoice.",
    }
    if shares is not None:
        paid = [amount * share for share in shares]
    elif due >= today:  # not yet due: open, sometimes a first instalment
        paid = [amount / 2] if world.chance(0.15) else []
    else:
        paid = world.weighted([([amount], 6), ([amount / 2, amount / 4], 1), ([amount / 3], 1), ([], 2)])
    on = min(today, due - dt.timedelta(days=world.rng.randint(0, 20)))
    data["payments"] = [
        {
            "external_id": f"demo-{n + 1}",
            "date": max(issued, on - dt.timedelta(days=7 * (len(paid) - n - 1))),
            "amount": part.quantize(Decimal("0.01")),
            "method": world.pick(METHODS),
        }
        for n, part in enumerate(paid)
    ]
    return data
