"""`crm twofactor-reset USERNAME`: remove a user's two-factor devices and recovery codes (a lost phone),
for an operator without an admin account at hand. The change log records it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.access import twofactor


class Command(BaseCommand):
    help = "Reset a user's two-factor sign-in: their next sign-in needs the password only (or enrolment)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if twofactor.two_factor_reset_by_operator(user=user):
            self.stdout.write(f"Two-factor sign-in of {username} reset.")
        else:
            self.stdout.write(f"{username} had no two-factor sign-in.")
