"""`crm unlock USERNAME` lifts a sign-in lockout (every IP), with a change-log row; `--list` shows
the lockouts in force."""

from django.core.management.base import BaseCommand, CommandError

from crm.access import lockouts


class Command(BaseCommand):
    help = "Lift the sign-in lockout of a username (after too many failed sign-ins), or list lockouts."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("--list", action="store_true", help="List the lockouts in force.")

    def handle(self, *args, username=None, **options):
        if options["list"]:
            for lock in lockouts.current():
                until = lock.until.isoformat(timespec="seconds")
                self.stdout.write(f"{lock.username}\t{lock.ip_address}\t{lock.failures} failures\tuntil {until}")
            return
        if not username:
            raise CommandError("Give a username, or --list.")
        count = lockouts.lockout_clear_by_operator(username)
        if count:
            self.stdout.write(f"Unlocked {username} ({count} failure record(s) cleared).")
        else:
            self.stdout.write(f"{username} had no failed sign-ins on record; nothing to unlock.")
