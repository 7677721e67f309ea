"""Quote totals: lines, discounts, taxes and shipping in, every amount a quote shows out.

Pure (no database, no settings): plain values in, a frozen ``QuoteTotals`` out, Decimal only.

**Rounding rule.** Every amount is rounded per line, half-up to the currency's minor unit
(``minor_units``: 2 for EUR, 0 for JPY, 3 for KWD). Half-up means half away from zero
(``ROUND_HALF_UP``), so a credit line mirrors the sale it returns. In order, per line:

1. gross = quantity × unit price, rounded;
2. line discount = gross × percent, rounded (or the amount given, which may not exceed the gross);
3. order discount: the order's percent of the lines' summed nets (rounded once) or its amount, shared
   out over the lines pro rata to their nets by the largest-remainder method, so the shares add up to
   the order discount exactly and each line's tax is computed on what the customer really pays;
4. tax per line on that net, rounded; the taxes shown per rate are the sums of the line taxes.

Tax per line (not per rate on summed bases) so that every figure on the quote adds up: a line's tax
is on the page, the rate's tax is the sum of the lines above it, and in inclusive mode each line's
base + tax is exactly the amount entered. Summing bases first can differ by a minor unit per rate and
would break that last property.

**Tax modes.** ``exclusive``: prices are before tax, tax = net × rate. ``inclusive``: prices (and
shipping) include tax; the tax a line holds is net × rate / (100 + rate), rounded, and its base is
net − tax. The totals are always stated before tax (subtotal, discounts, shipping) plus the taxes, so
``total = subtotal − discount_total + tax_total + shipping`` holds exactly in both modes, and in
inclusive mode ``total`` equals the amounts entered (lines after discounts, plus shipping).

**Credit lines** (``is_credit``) may have a negative quantity or price; any other negative refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from crm.core.errors import ValidationFailed

EXCLUSIVE = "exclusive"
INCLUSIVE = "inclusive"
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class QuoteInputError(ValidationFailed):
    """Bad quote input; ``fields`` maps a path (``lines.3.discount_percent``) to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(fields, "The quote's lines or totals are not valid.")


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    description: str = ""
    tax_rate: Decimal = ZERO  # percent
    discount_percent: Decimal | None = None
    discount_amount: Decimal | None = None  # a positive amount off this line's gross
    is_credit: bool = False


@dataclass(frozen=True)
class LineAmounts:
    """One line's amounts, in the tax mode entered (``gross``, ``discount``, ``net``) plus its
    ``base`` before tax and ``tax``. ``discount`` = line discount + its share of the order discount."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    gross: Decimal
    line_discount: Decimal
    order_discount: Decimal
    discount: Decimal
    net: Decimal
    base: Decimal
    tax: Decimal
    total: Decimal  # base + tax: what the customer pays for this line
    is_credit: bool = False


@dataclass(frozen=True)
class TaxAmount:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class QuoteTotals:
    """Stated before tax: ``subtotal`` (lines' gross), ``discount_total`` (line + order discounts),
    ``shipping``; then ``taxes`` per rate (lines and shipping), ``tax_total`` and ``total``.
    ``line_discount_total`` and ``order_discount_total`` are as entered (tax included in inclusive mode)."""

    lines: tuple[LineAmounts, ...]
    tax_mode: str
    minor_units: int
    subtotal: Decimal
    line_discount_total: Decimal
    order_discount_total: Decimal
    discount_total: Decimal
    shipping: Decimal
    shipping_tax: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_total: Decimal
    total: Decimal


def rounded(amount: Decimal, minor_units: int) -> Decimal:
    """Half-up (away from zero) to the minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_units), rounding=ROUND_HALF_UP)


def compute_totals(
    lines,
    *,
    minor_units: int,
    tax_mode: str = EXCLUSIVE,
    order_discount_percent: Decimal | None = None,
    order_discount_amount: Decimal | None = None,
    shipping: Decimal = ZERO,
    shipping_tax_rate: Decimal = ZERO,
) -> QuoteTotals:
    """Every amount of a quote (module docstring: the rules). Raises QuoteInputError naming each bad field."""
    lines = tuple(lines)
    errors = _check(
        lines, minor_units, tax_mode, order_discount_percent, order_discount_amount, shipping, shipping_tax_rate
    )
    if errors:
        raise QuoteInputError(errors)
    r = lambda amount: rounded(amount, minor_units)  # noqa: E731
    grosses = [r(line.quantity * line.unit_price) for line in lines]
    line_discounts = []
    for index, (line, gross) in enumerate(zip(lines, grosses, strict=True)):
        discount = r(_line_discount(line, gross, r))
        if abs(discount) > abs(gross):
            errors[f"lines.{index}.discount_amount"] = "The discount is larger than the line's amount."
        line_discounts.append(discount)
    nets = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    order = _order_discount(nets, order_discount_percent, order_discount_amount, r, errors)
    if errors:
        raise QuoteInputError(errors)
    shares = [r(share) for share in _allocate(order, nets, minor_units)]
    amounts = tuple(
        _line_amounts(line, gross, line_discount, share, tax_mode, r)
        for line, gross, line_discount, share in zip(lines, grosses, line_discounts, shares, strict=True)
    )
    return _totals(amounts, tax_mode, minor_units, r(shipping), shipping_tax_rate, r)


def _check(lines, minor_units, tax_mode, percent, amount, shipping, shipping_rate) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(minor_units, int) or not 0 <= minor_units <= 4:
        errors["minor_units"] = "A currency has 0 to 4 decimals."
    if tax_mode not in (EXCLUSIVE, INCLUSIVE):
        errors["tax_mode"] = "The tax mode is exclusive or inclusive."
    for index, line in enumerate(lines):
        _check_line(f"lines.{index}", line, errors)
    _check_decimal("order_discount_percent", percent, errors, high=HUNDRED, what="A discount is 0 to 100 %.")
    _check_decimal("order_discount_amount", amount, errors, what="A discount cannot be negative.")
    if percent is not None and amount is not None:
        errors["order_discount_amount"] = "Give the order discount as a percent or an amount, not both."
    _check_decimal("shipping", shipping, errors, what="Shipping cannot be negative.")
    _check_decimal("shipping_tax_rate", shipping_rate, errors, high=HUNDRED, what="A tax rate is 0 to 100 %.")
    return errors


def _check_line(path: str, line: LineInput, errors: dict) -> None:
    for name in ("quantity", "unit_price"):
        value = getattr(line, name)
        if not _is_number(value):
            errors[f"{path}.{name}"] = "Enter a number."
        elif value < 0 and not line.is_credit:
            errors[f"{path}.{name}"] = "Cannot be negative unless the line is a return or credit."
    _check_decimal(f"{path}.tax_rate", line.tax_rate, errors, high=HUNDRED, what="A tax rate is 0 to 100 %.")
    _check_decimal(
        f"{path}.discount_percent", line.discount_percent, errors, high=HUNDRED, what="A discount is 0 to 100 %."
    )
    _check_decimal(f"{path}.discount_amount", line.discount_amount, errors, what="A discount cannot be negative.")
    if line.discount_percent is not None and line.discount_amount is not None:
        errors[f"{path}.discount_amount"] = "Give a percent or an amount, not both."


def _check_decimal(path, value, errors, *, high=None, what=""):
    if value is None:
        return
    if not _is_number(value):
        errors[path] = "Enter a number."
    elif value < 0 or (high is not None and value > high):
        errors[path] = what


def _is_number(value) -> bool:
    """A finite Decimal or int (a float is refused: money is never binary floating point)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return False
    try:
        return Decimal(value).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _line_discount(line: LineInput, gross: Decimal, r) -> Decimal:
    """Same sign as the gross: a discount on a credit line makes the credit smaller."""
    if line.discount_percent is not None:
        return r(gross * Decimal(line.discount_percent) / HUNDRED)
    if line.discount_amount:
        return r(Decimal(line.discount_amount)).copy_sign(gross)
    return ZERO


def _order_discount(nets, percent, amount, r, errors) -> Decimal:
    total = sum(nets, ZERO)
    if percent is not None:
        return r(total * Decimal(percent) / HUNDRED)
    if not amount:
        return ZERO
    amount = r(Decimal(amount))
    if total <= 0 or amount > total:
        errors["order_discount_amount"] = "The order discount is larger than the lines' amount."
    return amount


def _allocate(amount: Decimal, weights: list[Decimal], minor_units: int) -> list[Decimal]:
    """``amount`` shared pro rata to ``weights`` in whole minor units that add up to it exactly
    (largest remainder: each share rounded down, the units left go to the largest fractions)."""
    total = sum(weights, ZERO)
    if not amount or not total:
        return [ZERO] * len(weights)
    unit = Decimal(1).scaleb(-minor_units)
    units = int(amount / unit)
    exact = [Decimal(units) * w / total for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = units - sum(floors)
    by_fraction = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_fraction[:left]:
        floors[i] += 1
    return [Decimal(f) * unit for f in floors]


def _line_amounts(line, gross, line_discount, share, tax_mode, r) -> LineAmounts:
    rate = Decimal(line.tax_rate)
    net = gross - line_discount - share
    if tax_mode == INCLUSIVE:
        tax = r(net * rate / (HUNDRED + rate))
        base = net - tax
    else:
        tax = r(net * rate / HUNDRED)
        base = net
    return LineAmounts(
        description=line.description,
        quantity=Decimal(line.quantity),
        unit_price=Decimal(line.unit_price),
        tax_rate=rate,
        gross=gross,
        line_discount=line_discount,
        order_discount=share,
        discount=line_discount + share,
        net=net,
        base=base,
        tax=tax,
        total=base + tax,
        is_credit=line.is_credit,
    )


def _totals(amounts, tax_mode, minor_units, shipping, shipping_rate, r) -> QuoteTotals:
    shipping_rate = Decimal(shipping_rate)
    if tax_mode == INCLUSIVE:
        shipping_tax = r(shipping * shipping_rate / (HUNDRED + shipping_rate))
        shipping_base = shipping - shipping_tax
        # Before tax: the gross's own tax share, so that subtotal − discounts = the lines' bases exactly.
        subtotal = sum((a.gross - r(a.gross * a.tax_rate / (HUNDRED + a.tax_rate)) for a in amounts), ZERO)
    else:
        shipping_tax = r(shipping * shipping_rate / HUNDRED)
        shipping_base = shipping
        subtotal = sum((a.gross for a in amounts), ZERO)
    bases = sum((a.base for a in amounts), ZERO)
    per_rate: dict[Decimal, list[Decimal]] = {}
    rows = [(a.tax_rate, a.base, a.tax) for a in amounts]
    if shipping:
        rows.append((shipping_rate, shipping_base, shipping_tax))
    for rate, base, tax in rows:
        sums = per_rate.setdefault(rate, [ZERO, ZERO])  # Decimal("20") and Decimal("20.00") are one key
        sums[0] += base
        sums[1] += tax
    taxes = tuple(TaxAmount(rate, b, t) for rate, (b, t) in sorted(per_rate.items()))
    tax_total = sum((t.tax for t in taxes), ZERO)
    line_discounts = sum((a.line_discount for a in amounts), ZERO)
    order_discounts = sum((a.order_discount for a in amounts), ZERO)
    return QuoteTotals(
        lines=amounts,
        tax_mode=tax_mode,
        minor_units=minor_units,
        subtotal=subtotal,
        line_discount_total=line_discounts,
        order_discount_total=order_discounts,
        discount_total=subtotal - bases,
        shipping=shipping_base,
        shipping_tax=shipping_tax,
        taxes=taxes,
        tax_total=tax_total,
        total=bases + tax_total + shipping_base,
    )
