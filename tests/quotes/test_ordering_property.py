"""Property: an accepted quote's lines as copied into an order (ordering.copy_lines + shipping_line),
priced by the orders' path into the engine (orders.services.lines.line_inputs), come to the quote's
totals exactly, for any lines, discounts, order discount, credit lines, shipping and tax mode."""

from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crm.orders.services.lines import line_inputs
from crm.quotes.services.ordering import copy_lines, shipping_line
from crm.quotes.totals import INCLUSIVE, QuoteInputError, compute_totals
from tests.quotes.test_totals import RATES, amounts, quote_lines


def _as_order_prepared(row: dict) -> dict:
    """What orders.services.lines.prepare makes of a copied row (no product, no rounding at 4 places)."""
    return {
        "description": row.get("description") or "x",
        "quantity": D(row["quantity"]),
        "unit_price": D(row["unit_price"]),
        "tax_rate": D(row.get("tax_rate") or 0),
        "discount_percent": row.get("discount_percent") or D(0),
        "discount_amount": row.get("discount_amount"),
        "is_credit": bool(row.get("is_credit")),
    }


@settings(max_examples=300, deadline=None)
@given(
    lines=quote_lines(),
    minor=st.sampled_from([0, 2]),
    inclusive=st.booleans(),
    order_pct=st.one_of(st.none(), amounts(100, 2)),
    order_amount=st.one_of(st.none(), amounts(50, 2)),
    shipping=amounts(100, 2),
    shipping_rate=RATES,
)
def test_the_copied_lines_come_to_the_quote_totals(
    lines, minor, inclusive, order_pct, order_amount, shipping, shipping_rate
):
    assume(lines and (order_pct is None or order_amount is None))
    mode = INCLUSIVE if inclusive else "exclusive"
    try:
        quote = compute_totals(
            lines,
            minor_units=minor,
            tax_mode=mode,
            order_discount_percent=order_pct,
            order_discount_amount=order_amount,
            shipping=shipping,
            shipping_tax_rate=shipping_rate,
        )
    except QuoteInputError:
        assume(False)
    fields = [
        {
            "description": "x",
            "quantity": x.quantity,
            "unit_price": x.unit_price,
            "tax_rate": x.tax_rate,
            "is_credit": x.is_credit,
            "discount_percent": x.discount_percent,
            "discount_amount": x.discount_amount,
        }
        for x in lines
    ]
    rows = copy_lines(fields, quote) + shipping_line(shipping, shipping_rate)
    order = compute_totals(line_inputs([_as_order_prepared(r) for r in rows]), minor_units=minor, tax_mode=mode)
    assert (order.total, order.tax_total) == (quote.total, quote.tax_total)
    for copied, source in zip(order.lines, quote.lines, strict=False):
        assert (copied.net, copied.tax, copied.total) == (source.net, source.tax, source.total)
