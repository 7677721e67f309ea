from django.apps import AppConfig


class MailboxConfig(AppConfig):
    """Incoming mail: IMAP mailboxes synced by the worker, their messages threaded and linked to the
    contacts, leads, companies and open deals they are about."""

    name = "crm.mailbox"
    label = "mailbox"
    verbose_name = "Mailboxes"

    def ready(self) -> None:
        # jobs registers the "mailbox.sync" job handlers; timeline_parts lists received files on timelines.
        from crm.mailbox import jobs, timeline_parts  # noqa: F401
        from crm.records import timeline

        if timeline_parts.decorate_received not in timeline.DECORATORS:
            timeline.DECORATORS.append(timeline_parts.decorate_received)
