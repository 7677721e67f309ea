"""`crm privacy export --email x@y [--phone P] [--out FILE]`, `crm privacy erase --email x@y --yes`,
`crm privacy retention [--apply]` (the dry-run report of the retention policies, or a run now)."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.core import context
from crm.core.errors import ServiceError
from crm.privacy import retention
from crm.privacy.access import subject_access
from crm.privacy.erasure import erase


class Command(BaseCommand):
    help = "Subject access (a ZIP of everything held about a person) and erasure."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("export", "write the person's data as a ZIP"), ("erase", "erase the person")):
            p = sub.add_parser(name, help=text)
            p.add_argument("--email")
            p.add_argument("--phone")
            p.add_argument("--type", help="a record's type (with --id) instead of an email or phone")
            p.add_argument("--id", type=int)
            p.add_argument("--user", help="act as this admin (default: the first active superuser)")
        sub.choices["export"].add_argument("--out", help="ZIP file to write (default: standard output)")
        sub.choices["erase"].add_argument("--yes", action="store_true", help="confirm: erasing cannot be undone")
        sub.choices["erase"].add_argument("--no-block", action="store_true", help="allow adding them again later")
        p = sub.add_parser("retention", help="what the retention policies would do now (--apply: do it)")
        p.add_argument("--apply", action="store_true", help="run the policies now instead of reporting")
        p.add_argument("--user", help="act as this admin (default: the first active superuser)")

    def handle(self, *args, action, user, **options):
        actor = _user(user)
        if action == "retention":
            return self._retention(actor, options["apply"])
        email, phone, type, id = (options[k] for k in ("email", "phone", "type", "id"))
        record = (type, id) if type or id is not None else None
        try:
            with context.change_context(source="cli"):
                if action == "export":
                    return self._export(actor, email, phone, record, options.get("out"))
                if not options.get("yes"):
                    raise CommandError("Erasing cannot be undone: add --yes to confirm.")
                report = erase(actor=actor, email=email, phone=phone, record=record, block=not options["no_block"])
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        self.stderr.write(f"Erased (erasure log {report.log_id}): {counts}; {report.blocked} identifiers blocked.")

    def _retention(self, actor, apply: bool):
        try:
            with context.change_context(source="cli"):
                if apply:
                    for done in retention.run(actor=actor):
                        self.stdout.write(f"Policy {done['policy']}: {done['counts'] or 'nothing due'}")
                    return
                for row in retention.report():
                    self.stdout.write(
                        f"Policy {row['policy']}: {row['action']} {row['count']} {row['object_type']} records"
                        f"{' in status ' + row['status'] if row['status'] else ''} "
                        f"({row['field']} before {row['cutoff']:%Y-%m-%d}); the next run does {row['next_run']}"
                    )
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _export(self, actor, email, phone, record, out):
        data = subject_access(actor=actor, email=email, phone=phone, record=record)
        if out:
            with open(out, "wb") as f:
                f.write(data)
            self.stderr.write(f"Wrote {out} ({len(data)} bytes).")
        else:
            sys.stdout.buffer.write(data)


def _user(username: str | None):
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
    if found is None:
        raise CommandError(f"No active user {username!r}." if username else "No active superuser: give --user.")
    return found
