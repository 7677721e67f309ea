from django.apps import AppConfig


class MoneyConfig(AppConfig):
    """Currencies, dated exchange rates and conversion to the organization's currency."""

    name = "crm.money"
    label = "money"
    verbose_name = "Money"
