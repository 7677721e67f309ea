"""What a quote's record page shows beyond its fields: the latest version's lines and totals, every
version (with its PDF), the customer's link."""

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
    }


@register.filter
def qmoney(amount, currency: str) -> str:
    """An amount as the quote's PDF shows it: the currency's minor units (€240.00, ¥1,200)."""
    if amount is None:
        return ""
    return money(amount, currency, minor_units(currency))


@register.filter
def plain(value) -> str:
    """A Decimal as typed, without trailing zeros or an exponent (100, 2.5, 0.125); None as empty."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text


@register.filter
def price_input(value, currency: str) -> str:
    """An amount for an input box: at least the currency's minor units (10.00), more if it has them
    (0.1234); None as empty."""
    if value is None:
        return ""
    places = max(minor_units(currency), -value.normalize().as_tuple().exponent)
    return f"{value:.{places}f}"


@register.filter
def may_quote_settings(user) -> bool:
    """The account menu's "Quote settings" link: admins and managers."""
    from crm.quotes.services.acceptance import may_change_settings

    return may_change_settings(user)
