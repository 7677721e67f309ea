"""`crm send_waiting`: queue the messages kept as "not sent" once EMAIL_URL names a mail server."""

from django.core.management.base import BaseCommand, CommandError

from crm.automation.system import automation_user
from crm.core.context import change_context
from crm.core.errors import ServiceError
from crm.mail import outbox


class Command(BaseCommand):
    help = "Queue the outgoing mail kept while no mail server was configured (the worker sends it)."

    def handle(self, *args, **options):
        try:
            with change_context(source="system"):
                count = outbox.send_waiting(actor=automation_user())
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{count} message(s) queued.")
