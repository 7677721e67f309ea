"""What the product and price-book pages show beside their fields: prices, and the products a price
can be added for."""

from django import template

from crm.access.policy import policy_for
from crm.products.models import PriceBookEntry, Product

register = template.Library()


@register.simple_tag
def book_entries(book):
    return list(book.entries.select_related("product").order_by("product__sku", "currency", "min_quantity", "id"))


@register.simple_tag
def product_prices(product, user):
    """The product's prices in the price books the user may see, by book."""
    if not policy_for(user).allows("price_book", "view"):
        return []
    rows = PriceBookEntry.objects.filter(product=product).select_related("price_book")
    return list(rows.order_by("-price_book__is_standard", "price_book__name", "currency", "min_quantity"))


@register.simple_tag
def price_products():
    return list(Product.objects.filter(active=True).order_by("sku").only("pk", "sku", "name")[:2000])
