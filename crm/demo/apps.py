from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "crm.demo"
    label = "demo"
