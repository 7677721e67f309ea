from django.apps import AppConfig


class MailboxConfig(AppConfig):
    """Incoming mail: IMAP mailboxes synced by the worker, their messages threaded and linked to the
    contacts, leads, companies and open deals they are about."""

    name = "crm.mailbox"
    label = "mailbox"
    verbose_name = "Mailboxes"

    def ready(self) -> None:
        from crm.mailbox import jobs  # noqa: F401  (registers the "mailbox.sync" job handlers)
