from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Orders and purchase history: orders declared as a record type (recordtypes.py), made from won
    deals, fed by outside systems (API, CSV/XLSX import), and summed per customer (stats.py)."""

    name = "crm.orders"
    label = "orders"

    def ready(self) -> None:
        from crm.money.services import RATE_HOOKS
        from crm.orders import stats_jobs  # registers the "orders.stats_for_rate" job handler

        if stats_jobs.on_rate not in RATE_HOOKS:
            RATE_HOOKS.append(stats_jobs.on_rate)
