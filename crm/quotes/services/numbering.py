"""Quote numbers: ``QUOTE_NUMBER_FORMAT`` (default ``Q-{year}-{n:04d}`` → Q-2026-0042) filled with the
year and that year's counter. The counter row is locked (select_for_update) while it is raised, inside
the caller's transaction, so two quotes created at once get two numbers; it only goes up, so a deleted
quote's number is never given out again (a rolled-back create never used its number)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from crm.quotes.models import QuoteCounter

DEFAULT_FORMAT = "Q-{year}-{n:04d}"


def number_format() -> str:
    return getattr(settings, "QUOTE_NUMBER_FORMAT", "") or DEFAULT_FORMAT


def next_number(today: dt.date | None = None) -> str:
    """The next number of the year (call inside the transaction that saves the quote)."""
    year = (today or timezone.localdate()).year
    QuoteCounter.objects.get_or_create(year=year)  # a concurrent first create: get_or_create retries the get
    counter = QuoteCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return number_format().format(year=year, n=counter.last)
