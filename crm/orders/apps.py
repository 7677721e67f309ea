from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Orders and purchase history: orders declared as a record type (recordtypes.py), made from won
    deals, fed by outside systems (API, CSV/XLSX import), and summed per customer (stats.py)."""

    name = "crm.orders"
    label = "orders"
