"""`crm demo [--if-empty] [--seed 42] [--companies 200] [--contacts 1000] [--deals 300]`."""

import io
import time

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from crm.core.errors import PermissionDenied
from crm.demo.generator import AlreadyFilled, Result, Sizes, generate
from crm.demo.setup import PASSWORD_SCHEME, MissingRole, password_for

LIMITS = {"companies": (0, 100_000), "contacts": (0, 500_000), "deals": (0, 200_000)}


class Command(BaseCommand):
    help = (
        "Fill an empty CRM with a realistic demo organization: users in every role, two teams, pipelines, "
        "companies, contacts, leads, deals, activities and tasks. The same seed gives the same data. "
        "Leads, activities and tasks scale with --contacts (15%, 3x, 40%)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when companies or contacts exist (for `make run`)."
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default %(default)s).")
        for name in ("companies", "contacts", "deals"):
            parser.add_argument(
                f"--{name}", type=int, default=getattr(Sizes, name), help=f"How many {name} (default %(default)s)."
            )

    def handle(self, *args, **options):
        sizes = _sizes(options)
        started = time.perf_counter()
        try:
            result = generate(seed=options["seed"], sizes=sizes)
        except AlreadyFilled:
            if options["if_empty"]:
                if options["verbosity"] > 0:
                    self.stdout.write("The CRM already has companies or contacts: no demo data added.")
                return
            raise CommandError(
                "The CRM already has companies or contacts; the demo only fills an empty database. "
                "Use a fresh database, or --if-empty to skip quietly."
            ) from None
        except MissingRole as exc:
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:  # an existing `admin` user without the admin role
            message = f"{exc.message} The demo creates them as its `admin` user, who is not an admin."
            raise CommandError(message) from None
        if options["verbosity"] > 0:
            self.stdout.write(self._report(result, time.perf_counter() - started), ending="")

    def _report(self, result: Result, seconds: float) -> str:
        buffer = io.StringIO()
        console = Console(file=buffer, width=100, force_terminal=self.stdout.isatty(), highlight=False)
        counts = Table("created", "rows")
        for name, count in result.counts.items():
            counts.add_row(name, f"{count:,}")
        logins = Table("username", "password", "role", "team")
        for login in result.logins:
            username = login.spec.username
            password = password_for(username) if login.created else "(existing user: unchanged)"
            logins.add_row(username, password, login.role, login.team)
        console.print(f"Demo organization created in {seconds:.1f} s.")
        console.print(counts)
        console.print(f"Log in with these users; every password is {PASSWORD_SCHEME}.")
        console.print(logins)
        return buffer.getvalue()


def _sizes(options) -> Sizes:
    values = {}
    for name, (low, high) in LIMITS.items():
        value = options[name]
        if not low <= value <= high:
            raise CommandError(f"--{name} must be between {low} and {high:,} (got {value}).")
        values[name] = value
    if values["deals"] and not values["companies"]:
        raise CommandError("--deals needs at least one company (--companies 1 or more).")
    return Sizes(**values)
