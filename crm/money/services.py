"""Currency and exchange-rate writes: admins only (policy.require_admin), each logged through
crm.audit.configwrites (change-log types ``currency`` and ``exchange_rate``).

Rules (decided here, documented in docs/architecture.md "Money"):
- The organization's currency cannot be disabled, nor get a rate (it is 1 by definition).
- A currency used by open deals cannot be disabled (the refusal counts them): their totals would still
  need it. Won and lost deals keep a disabled currency; they are converted with its old rates.
- A rate is set for an enabled currency only; setting one for a (currency, date) that has one replaces
  it (upsert). Batches (a list, a CSV file) are all or nothing: one bad row refuses the whole batch,
  every error named by its row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.core.errors import BadRequest, NotFound, ValidationFailed
from crm.dataio import csvread
from crm.money.currencies import organization_currency
from crm.money.models import Currency, ExchangeRate

WHAT = "currencies and exchange rates"
CURRENCY_FIELDS = ("name", "symbol", "minor_units", "enabled")
CSV_COLUMNS = ("currency", "date", "rate")
MAX_ROWS = 10_000


def get_currency(code: str) -> Currency:
    found = Currency.objects.filter(code=str(code).upper()).first()
    if found is None:
        raise NotFound(f"No currency {code}.")
    return found


def _check_currency(currency: Currency) -> None:
    if currency.enabled:
        return
    if currency.code == organization_currency():
        raise ValidationFailed({"enabled": f"{currency.code} is the organization's currency: it cannot be disabled."})
    from crm.records.models import Deal, DealStatus  # records sits above money: imported when needed

    used = Deal.objects.filter(currency=currency.code, status=DealStatus.OPEN).count()
    if used:
        raise ValidationFailed({"enabled": f"{used} open deals use {currency.code}: it cannot be disabled."})


def currency_create(*, actor, data: dict) -> Currency:
    """A currency the ISO table lacks (a new code); the known ones are enabled with currency_update."""
    require_admin(actor, WHAT)
    code = str(data.get("code") or "").upper()
    with transaction.atomic():
        if Currency.objects.filter(code=code).exists():
            raise ValidationFailed({"code": f"{code} exists already; enable it instead."})
        fields = {k: data[k] for k in CURRENCY_FIELDS if k in data}
        return configwrites.create(Currency(code=code, **fields), actor=actor, check=_check_currency)


def currency_update(currency: Currency, *, actor, data: dict) -> Currency:
    require_admin(actor, WHAT)
    with transaction.atomic():
        return configwrites.update(currency, actor=actor, data=data, fields=CURRENCY_FIELDS, check=_check_currency)


def set_enabled(code: str, enabled: bool, *, actor) -> Currency:
    return currency_update(get_currency(code), actor=actor, data={"enabled": enabled})


# --- rates --------------------------------------------------------------------------------------


def _rate_errors(code, date, rate) -> tuple[dict, tuple]:
    """Field errors of one rate, and the cleaned (code, date, rate)."""
    errors = {}
    code = str(code or "").strip().upper()
    if code == organization_currency():
        errors["currency"] = f"{code} is the organization's currency: its rate is always 1."
    elif not Currency.objects.filter(code=code, enabled=True).exists():
        errors["currency"] = f"{code or '(empty)'} is not an enabled currency."
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip())
        except ValueError:
            errors["date"] = f"{date!r} is not a date (YYYY-MM-DD)."
    elif not isinstance(date, dt.date):
        errors["date"] = "A date (YYYY-MM-DD) is needed."
    try:
        rate = Decimal(str(rate).strip()) if not isinstance(rate, float | bool) and rate is not None else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite():
        errors["rate"] = "A number is needed (e.g. 1.0825)."
    elif rate <= 0:
        errors["rate"] = "A rate is greater than 0."
    return errors, (code, date, rate)


# Listeners of rate writes (crm/orders: purchase stats summed at each order's date): called as
# hook(currency, date) after the write commits, once per rate set, changed or deleted.
RATE_HOOKS: list = []


def _changed(code: str, date: dt.date) -> None:
    for hook in RATE_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(code, date))


def _upsert(code: str, date: dt.date, rate: Decimal, *, actor) -> ExchangeRate:
    _changed(code, date)
    existing = ExchangeRate.objects.filter(currency_id=code, date=date).first()
    if existing is not None:
        return configwrites.update(existing, actor=actor, data={"rate": rate}, fields=("rate",))
    return configwrites.create(ExchangeRate(currency_id=code, date=date, rate=rate), actor=actor)


def rate_set(*, actor, currency: str, date, rate) -> ExchangeRate:
    """Set the rate of ``currency`` on ``date`` (replacing the one there was)."""
    require_admin(actor, WHAT)
    errors, (code, date, rate) = _rate_errors(currency, date, rate)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        return _upsert(code, date, rate, actor=actor)


def rates_set(*, actor, items: list[dict], label=lambda i: str(i)) -> list[ExchangeRate]:
    """Set many rates, all or nothing. ``items``: {currency, date, rate}; ``label(i)`` names item i in
    the errors (its index for the API, its line for a file)."""
    require_admin(actor, WHAT)
    errors, cleaned, seen = {}, [], {}
    for i, item in enumerate(items):
        found, row = _rate_errors(item.get("currency"), item.get("date"), item.get("rate"))
        key = (row[0], row[1])
        if not found and key in seen:
            found = {"date": f"{row[0]} on {row[1]} is given twice (also {seen[key]})."}
        seen.setdefault(key, label(i))
        errors.update({f"{label(i)}.{name}": message for name, message in found.items()})
        cleaned.append(row)
    if errors:
        bad = len({k.rsplit(".", 1)[0] for k in errors})
        raise ValidationFailed(errors, f"{bad} of {len(items)} rows are not valid; nothing was saved.")
    with transaction.atomic():
        return [_upsert(code, date, rate, actor=actor) for code, date, rate in cleaned]


def rate_delete(rate: ExchangeRate, *, actor) -> None:
    require_admin(actor, WHAT)
    with transaction.atomic():
        _changed(rate.currency_id, rate.date)
        configwrites.delete(rate, actor=actor)


def rates_import(binary, *, actor) -> list[ExchangeRate]:
    """A CSV with the columns currency, date, rate (any order, more columns ignored); all or nothing,
    errors named ``line N.<column>`` (the header is line 1)."""
    require_admin(actor, WHAT)
    sheet = csvread.open_csv(binary)
    header = [h.strip().lower() for h in sheet.header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        message = f"The file needs the columns {', '.join(CSV_COLUMNS)}; missing: {', '.join(missing)}."
        raise BadRequest(message, fields={"file": message})
    at = {c: header.index(c) for c in CSV_COLUMNS}
    items, lines = [], []
    for line, cells in sheet.rows:
        if len(items) >= MAX_ROWS:
            raise BadRequest(f"At most {MAX_ROWS} rates per file.", fields={"file": "Too many rows."})
        items.append({c: cells[i] if i < len(cells) else "" for c, i in at.items()})
        lines.append(line)
    if not items:
        raise BadRequest("The file has no rates under its header.", fields={"file": "No rows."})
    return rates_set(actor=actor, items=items, label=lambda i: f"line {lines[i]}")
