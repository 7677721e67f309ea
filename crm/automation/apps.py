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
        from django.db.models.signals import pre_delete

        from crm.access.models import Role

        # Every way a role goes (service, admin, cascade) passes here: see webhooks.on_role_deleted.
        pre_delete.connect(_role_deleted, sender=Role, dispatch_uid="automation.webhooks.role_deleted")


def _role_deleted(sender, instance, **kwargs) -> None:
    from crm.automation import webhooks

    webhooks.on_role_deleted(instance)
