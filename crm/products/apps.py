from django.apps import AppConfig


class ProductsConfig(AppConfig):
    """Products and price books: the organization's catalogue, declared as record types
    (recordtypes.py), and the price lookup quotes use (pricing.py)."""

    name = "crm.products"
    label = "products"
