"""The period picker of the forecast and analytics pages: the period a request asks for, and the
links around it (previous, next, the current month, quarter and fiscal year)."""

from __future__ import annotations

from django.contrib import messages
from django.utils import timezone

from crm.core.errors import ValidationFailed
from crm.forecast import categories, periods


def period_from_request(request) -> periods.Period:
    """``?period=FY2027-Q1`` (a bad key is a message, not an error), else the current ``?kind=``
    (a quarter by default)."""
    fy = categories.fiscal_year_start()
    key = request.GET.get("period") or request.POST.get("period")
    kind = request.GET.get("kind")
    if key:
        try:
            return periods.parse(key, fy)
        except ValidationFailed as exc:
            messages.error(request, exc.fields["period"])
    return periods.containing(kind if kind in periods.KINDS else "quarter", timezone.localdate(), fy)


def picker(period: periods.Period) -> dict:
    """The template context of the picker."""
    fy = categories.fiscal_year_start()
    today = timezone.localdate()
    return {
        "period": period,
        "previous": periods.shifted(period, -1, fy),
        "next": periods.shifted(period, 1, fy),
        "kinds": [periods.containing(k, today, fy) for k in periods.KINDS],
    }
