"""`crm audit reads [--since DATE] [--until DATE] [--user U] [--action A] [--type T] [--limit N]`:
the read audit as a table, newest first (admins' view; reading it is not recorded)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.audit import reads
from crm.core.errors import ServiceError

COLUMNS = ("time", "user", "action", "type", "id", "rows", "detail")


class Command(BaseCommand):
    help = "Show the read audit: exports, subject access, views of encrypted fields."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        p = sub.add_parser("reads", help="the read audit, newest first")
        p.add_argument("--since", help="from this date (YYYY-MM-DD) or date-time")
        p.add_argument("--until", help="up to this date (the whole day) or date-time")
        p.add_argument("--user", dest="who", help="whose reads: a user id or user name")
        p.add_argument("--action", choices=reads.ReadAction.values)
        p.add_argument("--type", dest="object_type", help="a record type (contact, deal, ...)")
        p.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100)")
        p.add_argument("--as", dest="as_user", help="act as this admin (default: the first active superuser)")

    def handle(self, *args, since, until, who, action, object_type, limit, as_user, **options):
        params = {"from": since, "to": until, "user": who, "action": action, "object_type": object_type}
        try:
            qs = reads.events(_user(as_user), {k: v for k, v in params.items() if v})
            rows = [_row(e) for e in qs[: max(limit, 1)]]
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(COLUMNS)]
        for line in [COLUMNS, *rows]:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
        self.stderr.write(f"{len(rows)} entries.")


def _row(e) -> tuple[str, ...]:
    detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
    return (
        e.time.strftime("%Y-%m-%d %H:%M:%S"),
        e.user_name or "-",
        e.action,
        e.object_type or "-",
        "-" if e.object_id is None else str(e.object_id),
        "-" if e.count is None else str(e.count),
        detail,
    )


def _user(username: str | None):
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
    if found is None:
        raise CommandError(f"No active user {username!r}." if username else "No active superuser: give --as.")
    return found
