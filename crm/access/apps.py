from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "crm.access"
    label = "access"

    def ready(self):
        from crm.access import lockouts, sessions  # noqa: F401  (their signal receivers)
