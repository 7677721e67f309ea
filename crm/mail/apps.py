from django.apps import AppConfig


class MailConfig(AppConfig):
    """Outgoing mail: templates with merge fields, the outbox, sending in the worker."""

    name = "crm.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        # sending registers the "mail.send" job handler; engagement puts opens and clicks on timelines.
        from crm.mail import engagement, sending  # noqa: F401
        from crm.records import timeline

        timeline.EXTRA_SOURCES["engagement"] = engagement.timeline_source
        if engagement.decorate_sent not in timeline.DECORATORS:
            timeline.DECORATORS.append(engagement.decorate_sent)
