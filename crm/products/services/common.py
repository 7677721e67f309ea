"""What the product and price-book services share: the currency check, the SKU rule, unique names."""

from __future__ import annotations

import decimal
import re
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from crm.core.errors import ValidationFailed
from crm.money.currencies import require_currency

CURRENCY = re.compile(r"^[A-Z]{3}$")
SKU_SPACES = re.compile(r"\s+")


def check_currency(code) -> str:
    """The currency code a product or price may carry, or ValidationFailed's message (ValueError).

    Three letters naming a currency enabled under Settings → Currencies (crm.money), checked here, in
    this one place."""
    text = (code or "").strip().upper() if isinstance(code, str) else ""
    if not CURRENCY.match(text):
        raise ValueError(f"{code!r} is not a currency code (three letters, such as EUR).")
    try:
        require_currency(text)
    except DjangoValidationError as exc:
        raise ValueError(exc.messages[0]) from None
    return text


PRICE_LIMIT = COST_LIMIT = decimal.Decimal(10) ** 16  # what a DecimalField(18, 2) holds


def to_decimal(value, *, minimum: int, limit: decimal.Decimal, what: str) -> decimal.Decimal:
    """``value`` as a Decimal with at most two decimal places, ≥ ``minimum``; ValueError says why not."""
    if isinstance(value, bool) or isinstance(value, float) and value != value:
        raise ValueError(f"{what} must be a number.")
    try:
        number = decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}.") from None
    if not number.is_finite() or number >= limit:
        raise ValueError(f"{what} must be a number below {limit:,}.")
    if number < minimum:
        raise ValueError(f"{what} must be at least {minimum}.")
    if number != number.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_DOWN):
        raise ValueError(f"{what} has at most two decimal places.")
    return number.quantize(decimal.Decimal("0.01"))


def org_currency() -> str:
    return settings.DEFAULT_CURRENCY


def normalize_sku(raw) -> str:
    """A SKU trimmed, inner runs of spaces made one; compared case-insensitively (kept as typed)."""
    return SKU_SPACES.sub(" ", raw.strip()) if isinstance(raw, str) else ""


@contextmanager
def unique_or_422(field: str, message: str):
    """A unique constraint the service checked first but a concurrent write won: a 422, not a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationFailed({field: message}) from None
