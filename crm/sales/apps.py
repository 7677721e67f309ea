from django.apps import AppConfig


class SalesConfig(AppConfig):
    """Sales reads across deals: the pipeline board, the forecast and the funnel."""

    name = "crm.sales"
    label = "sales"
