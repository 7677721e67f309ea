from django.apps import AppConfig


class MailConfig(AppConfig):
    """Outgoing mail: templates with merge fields, the outbox, sending in the worker."""

    name = "crm.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from crm.mail import sending  # noqa: F401  (registers the "mail.send" job handler)
