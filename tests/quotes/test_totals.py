"""The quote totals engine (crm/quotes/totals.py): hand-computed cases, bad input, and properties."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.quotes.totals import INCLUSIVE, LineInput, QuoteInputError, compute_totals


def line(qty, price, rate="0", **kw):
    return LineInput(quantity=D(qty), unit_price=D(price), tax_rate=D(rate), **kw)


def test_exclusive_two_rates_line_and_order_percent_discount_and_shipping():
    # Line 1: 2 × 10.005 = 20.010 → 20.01; line 2: 5.00 − 10 % = 4.50. Order 5 % of 24.51 = 1.2255 → 1.23,
    # shared 123 units pro rata: 100.42 → 100, 22.58 → 22, the unit left to the larger fraction → 23.
    t = compute_totals(
        [line("2", "10.005", "20"), line("1", "5", "7", discount_percent=D("10"))],
        minor_units=2,
        order_discount_percent=D("5"),
        shipping=D("5"),
        shipping_tax_rate=D("20"),
    )
    one, two = t.lines
    assert (one.gross, one.discount, one.net, one.tax) == (D("20.01"), D("1.00"), D("19.01"), D("3.80"))
    assert (two.gross, two.line_discount, two.order_discount, two.net, two.tax) == (
        D("5.00"),
        D("0.50"),
        D("0.23"),
        D("4.27"),
        D("0.30"),
    )
    assert t.subtotal == D("25.01") and t.discount_total == D("1.73") and t.order_discount_total == D("1.23")
    assert [(r.rate, r.base, r.tax) for r in t.taxes] == [
        (D("7"), D("4.27"), D("0.30")),
        (D("20"), D("24.01"), D("4.80")),
    ]
    assert t.shipping == D("5.00") and t.shipping_tax == D("1.00")
    assert t.tax_total == D("5.10") and t.total == D("33.38")


def test_order_discount_amount_is_shared_pro_rata_and_adds_up():
    # 10 off 30.00 + 60.00: 3.33… and 6.66… units of 0.01 → 3.33 + 6.67 (largest remainder) = 10.00 exactly.
    t = compute_totals([line("1", "30", "10"), line("1", "60", "20")], minor_units=2, order_discount_amount=D("10"))
    assert [a.order_discount for a in t.lines] == [D("3.33"), D("6.67")]
    assert [a.tax for a in t.lines] == [D("2.67"), D("10.67")]  # 26.67 × 10 %, 53.33 × 20 %
    assert t.total == D("80.00") + D("13.34")


def test_inclusive_mode_keeps_the_entered_amounts():
    # 119.00 incl. 19 %: tax 19.00, base 100.00; 10.70 incl. 7 %: tax 0.70; shipping 5.95 incl. 19 %: 0.95.
    t = compute_totals(
        [line("1", "119", "19"), line("1", "10.70", "7")],
        minor_units=2,
        tax_mode=INCLUSIVE,
        shipping=D("5.95"),
        shipping_tax_rate=D("19"),
    )
    assert [(a.base, a.tax, a.total) for a in t.lines] == [
        (D("100.00"), D("19.00"), D("119.00")),
        (D("10.00"), D("0.70"), D("10.70")),
    ]
    assert [(r.rate, r.base, r.tax) for r in t.taxes] == [
        (D("7"), D("10.00"), D("0.70")),
        (D("19"), D("105.00"), D("19.95")),
    ]
    assert t.subtotal == D("110.00") and t.shipping == D("5.00")
    assert t.total == D("119") + D("10.70") + D("5.95")


def test_inclusive_with_order_discount_taxes_the_discounted_amount():
    t = compute_totals([line("1", "119", "19")], minor_units=2, tax_mode=INCLUSIVE, order_discount_percent=D("10"))
    (a,) = t.lines
    assert (a.net, a.tax, a.base) == (D("107.10"), D("17.10"), D("90.00"))
    assert t.total == D("107.10")
    assert t.subtotal - t.discount_total + t.tax_total == t.total


def test_jpy_has_no_decimals():
    t = compute_totals([line("3", "333.5", "10"), line("1", "999", "8")], minor_units=0, order_discount_percent=D("3"))
    # 1000.5 → 1001 (half-up); 3 % of 2000 = 60 shared 30.03 / 29.97 → 30 / 30.
    assert [a.gross for a in t.lines] == [D("1001"), D("999")]
    assert [a.order_discount for a in t.lines] == [D("30"), D("30")]
    assert [a.tax for a in t.lines] == [D("97"), D("78")]  # 971 × 10 % = 97.1; 969 × 8 % = 77.52
    assert t.total == D("1940") + D("175")
    assert all(v.as_tuple().exponent == 0 for v in (t.total, t.subtotal, t.tax_total))


def test_three_decimal_currency():
    t = compute_totals([line("1", "1.2345", "5")], minor_units=3)
    (a,) = t.lines
    assert (a.gross, a.tax) == (D("1.235"), D("0.062"))  # 1.2345 → 1.235; 0.06175 → 0.062
    assert t.total == D("1.297")


@pytest.mark.parametrize(
    ("price", "gross"),
    [("0.005", "0.01"), ("0.015", "0.02"), ("0.025", "0.03"), ("1.004999", "1.00"), ("2.675", "2.68")],
)
def test_half_up_at_the_half_cent(price, gross):
    assert compute_totals([line("1", price)], minor_units=2).lines[0].gross == D(gross)


def test_tax_half_up_per_line_then_summed():
    # Each 0.10 × 5 % = 0.005 → 0.01 per line: two lines hold 0.02 (per rate on the summed base: 0.01).
    t = compute_totals([line("1", "0.10", "5"), line("1", "0.10", "5")], minor_units=2)
    assert [r.tax for r in t.taxes] == [D("0.02")]


def test_credit_line_is_negative_and_mirrors_rounding():
    t = compute_totals(
        [line("2", "50", "20"), line("-1", "10.005", "20", is_credit=True, discount_percent=D("10"))], minor_units=2
    )
    credit = t.lines[1]
    assert (credit.gross, credit.discount, credit.net, credit.tax) == (D("-10.01"), D("-1.00"), D("-9.01"), D("-1.80"))
    assert t.total == D("100") + D("20") - D("9.01") - D("1.80")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"lines": [line("-1", "5")]}, "lines.0.quantity"),
        ({"lines": [line("1", "5"), line("1", "-5")]}, "lines.1.unit_price"),
        ({"lines": [line("1", "5", discount_percent=D("100.01"))]}, "lines.0.discount_percent"),
        ({"lines": [line("1", "5", discount_amount=D("5.01"))]}, "lines.0.discount_amount"),
        ({"lines": [line("1", "5", discount_amount=D("-1"))]}, "lines.0.discount_amount"),
        ({"lines": [line("1", "5", "-1")]}, "lines.0.tax_rate"),
        ({"lines": [line("1", "5", "100.5")]}, "lines.0.tax_rate"),
        ({"lines": [line("1", "5")], "shipping": D("-1")}, "shipping"),
        ({"lines": [line("1", "5")], "shipping_tax_rate": D("101")}, "shipping_tax_rate"),
        ({"lines": [line("1", "5")], "order_discount_percent": D("150")}, "order_discount_percent"),
        ({"lines": [line("1", "5")], "order_discount_amount": D("6")}, "order_discount_amount"),
        ({"lines": [LineInput(quantity=1.5, unit_price=D("1"))]}, "lines.0.quantity"),
        ({"lines": [line("1", "5")], "tax_mode": "gross"}, "tax_mode"),
    ],
)
def test_bad_input_names_the_field(kwargs, path):
    lines = kwargs.pop("lines")
    with pytest.raises(QuoteInputError) as caught:
        compute_totals(lines, minor_units=2, **kwargs)
    assert path in caught.value.fields
    assert caught.value.status == 422


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(QuoteInputError) as caught:
        compute_totals([line("-1", "5"), line("1", "5", "200")], minor_units=2, shipping=D("-2"))
    assert set(caught.value.fields) == {"lines.0.quantity", "lines.1.tax_rate", "shipping"}


def test_empty_quote_is_zero():
    t = compute_totals([], minor_units=2)
    assert (t.total, t.taxes, t.lines) == (D("0"), (), ())


# --- Properties ---------------------------------------------------------------------------------

MINOR = st.sampled_from([0, 2, 3])
RATES = st.sampled_from(["0", "5", "7", "10", "19", "20", "21", "8.5"]).map(D)


def amounts(high, places=3):
    return st.decimals(min_value=0, max_value=high, places=places, allow_nan=False, allow_infinity=False)


@st.composite
def quote_lines(draw):
    out = []
    for _ in range(draw(st.integers(0, 8))):
        credit = draw(st.booleans()) and draw(st.booleans())
        qty = draw(amounts(50, 2))
        kind = draw(st.sampled_from(["none", "percent", "amount"]))
        percent = draw(amounts(100, 2)) if kind == "percent" else None
        price = draw(amounts(5000))
        out.append(
            LineInput(
                quantity=-qty if credit else qty,
                unit_price=price,
                tax_rate=draw(RATES),
                discount_percent=percent,
                discount_amount=D("0.5") if kind == "amount" and qty >= 1 and price >= 1 else None,
                is_credit=credit,
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(
    lines=quote_lines(),
    minor=MINOR,
    inclusive=st.booleans(),
    order_pct=st.one_of(st.none(), amounts(100, 2)),
    shipping=amounts(100, 2),
    shipping_rate=RATES,
)
def test_total_is_subtotal_minus_discounts_plus_taxes_plus_shipping(
    lines, minor, inclusive, order_pct, shipping, shipping_rate
):
    t = compute_totals(
        lines,
        minor_units=minor,
        tax_mode=INCLUSIVE if inclusive else "exclusive",
        order_discount_percent=order_pct,
        shipping=shipping,
        shipping_tax_rate=shipping_rate,
    )
    assert t.total == t.subtotal - t.discount_total + t.tax_total + t.shipping
    assert t.tax_total == sum((a.tax for a in t.lines), D(0)) + t.shipping_tax
    assert sum((a.order_discount for a in t.lines), D(0)) == t.order_discount_total
    every = [t.total, t.subtotal, t.discount_total, t.tax_total, t.shipping]
    every += [v for a in t.lines for v in (a.gross, a.discount, a.net, a.tax, a.base)]
    assert all(isinstance(v, D) and v.as_tuple().exponent >= -minor for v in every)  # never a float, never finer
    if inclusive:
        entered = sum((a.net for a in t.lines), D(0)) + t.shipping + t.shipping_tax
        assert t.total == entered
        assert all(a.base + a.tax == a.net for a in t.lines)


@settings(max_examples=200, deadline=None)
@given(nets=st.lists(amounts(1000, 2).filter(bool), min_size=1, max_size=10), share=st.integers(0, 100))
def test_order_discount_amount_shares_add_up_exactly(nets, share):
    lines = [LineInput(quantity=D(1), unit_price=n) for n in nets]
    amount = (sum(nets) * share / 100).quantize(D("0.01"))
    if amount > sum(nets):
        amount = sum(nets)
    t = compute_totals(lines, minor_units=2, order_discount_amount=amount)
    assert t.order_discount_total == amount
    assert all(a.net >= 0 for a in t.lines)
