from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Production concerns: health checks, JSON logs, the gunicorn config, backup and restore."""

    name = "crm.ops"
    label = "ops"
