"""What a quote's record page shows beyond its fields: the latest version's lines and totals, every
version (with its PDF), the customer's link."""

from dataclasses import dataclass

from django import template

from crm.money.currencies import minor_units
from crm.quotes import links
from crm.quotes.formatting import money

register = template.Library()


@register.simple_tag
def quote_view(quote):
    latest = quote.versions.filter(number=quote.current_version).first()
    return {
        "latest": latest,
        "lines": list(latest.lines.select_related("product").order_by("position", "id")) if latest else [],
        "versions": list(quote.versions.order_by("-number")),
        "acceptance_path": links.path_for(quote),
        "cur": money_of(quote.currency),
    }


@register.filter
def qmoney(amount, currency) -> str:
    """An amount as the quote's PDF shows it: the currency's minor units (€240.00, ¥1,200). ``currency``:
    a code (its minor units are read) or a Money from ``money_of`` (read once for a page of lines)."""
    if amount is None:
        return ""
    if isinstance(currency, Money):
        return money(amount, currency.code, currency.minor_units)
    return money(amount, currency, minor_units(currency))


@dataclass(frozen=True)
class Money:
    code: str
    minor_units: int


def money_of(code: str) -> Money:
    """The currency with its minor units, for templates that show many amounts (one query, not one each)."""
    return Money(code, minor_units(code))


@register.filter
def plain(value) -> str:
    """A Decimal as typed, without trailing zeros or an exponent (100, 2.5, 0.125); None as empty."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text


@register.filter
def price_input(value, currency) -> str:
    """An amount for an input box: at least the currency's minor units (10.00), more if it has them
    (0.1234); None as empty."""
    if value is None:
        return ""
    units = currency.minor_units if isinstance(currency, Money) else minor_units(currency)
    places = max(units, -value.normalize().as_tuple().exponent)
    return f"{value:.{places}f}"


@register.filter
def may_quote_settings(user) -> bool:
    """The account menu's "Quote settings" link: admins and managers."""
    from crm.quotes.services.acceptance import may_change_settings

    return may_change_settings(user)
