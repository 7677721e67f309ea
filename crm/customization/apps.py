from django.apps import AppConfig


class CustomizationConfig(AppConfig):
    name = "crm.customization"
    label = "customization"
