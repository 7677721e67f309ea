"""`crm token create USERNAME [--name NAME]` prints a new API token (and nothing else)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.access import tokens


class Command(BaseCommand):
    help = "Manage API tokens. Only a hash is stored: the token is shown once, when created."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token for a user and print it.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="What the token is for.")
        revoke = sub.add_parser("revoke", help="Delete every token of a user.")
        revoke.add_argument("username")

    def handle(self, *args, action, username, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if action == "create":
            _, raw = tokens.token_issue_by_operator(user=user, name=options["name"][:100])
            self.stdout.write(raw)
        else:
            count = tokens.tokens_revoke_by_operator(user=user)
            self.stderr.write(f"Revoked {count} token(s) of {username}.")
