from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "crm.records"
    label = "records"
