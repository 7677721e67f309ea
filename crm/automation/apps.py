from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "crm.automation"
    label = "automation"
    verbose_name = "Automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # handlers registers every job kind, so a worker can run them all.
        from crm.automation import handlers, triggers, webhooks  # noqa: F401
        from crm.core import events

        events.subscribe(triggers.on_event)
        events.subscribe(webhooks.on_event)
