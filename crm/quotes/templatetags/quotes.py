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
