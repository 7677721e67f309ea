"""`crm encryption new-key | rotate [--now] | status`: the keys of encrypted values (crm.core.crypto)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.core import crypto
from crm.customization import rotation


class Command(BaseCommand):
    help = "Encryption keys: add a key (new-key), move every value to the current key (rotate), count (status)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("new-key", help="Put a new key first in var/encryption_keys (or print one for ENCRYPTION_KEYS).")
        rotate = sub.add_parser("rotate", help="Re-encrypt every value under the current key, in the background.")
        rotate.add_argument("--now", action="store_true", help="Run here and wait instead of enqueuing a job.")
        sub.add_parser("status", help="How many values are on which key id.")

    def handle(self, *args, action, **options):
        try:
            keys = crypto.keyset()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if action == "new-key":
            self._new_key()
        elif action == "rotate":
            self._rotate(keys, options["now"])
        else:
            self._status(keys)

    def _new_key(self):
        if os.environ.get("ENCRYPTION_KEYS", "").strip():  # the operator's own store: print, do not write
            key = crypto.new_key()
            self.stdout.write(f"New key (id {crypto.kid_of(key)}): put it first in ENCRYPTION_KEYS, keep the others:")
            self.stdout.write(key)
            return
        key = crypto.add_key_to_file(settings.VAR_DIR)
        self.stdout.write(
            f"Key {crypto.kid_of(key)} is now first in {settings.VAR_DIR / 'encryption_keys'}. Restart the "
            "processes (web and worker), then run `crm encryption rotate`."
        )

    def _rotate(self, keys, now: bool):
        if now:
            try:
                result = rotation.rotate(keys)
            except crypto.KeyMissing as exc:  # a value no key here can open: it cannot be moved either
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"Rotated to key {keys.current}: {result['rewritten']} values rewritten in "
                f"{result['passes']} passes, {result['left']} left on other keys."
            )
            if result["left"]:
                raise CommandError("Some values are still on an old key: is a process running with old keys?")
            return
        job = rotation.enqueue()
        self.stdout.write(f"Rotation to key {keys.current} enqueued (job {job.pk}); `crm worker` runs it.")

    def _status(self, keys):
        counts = rotation.status()
        self.stdout.write(
            f"Current key {keys.current}, lookup key {keys.lookup_kid}; keys held: {', '.join(keys.fernets)}."
        )
        if not counts:
            self.stdout.write("No encrypted values stored.")
        for (kid, lookup_kid), n in sorted(counts.items()):
            missing = "" if kid in keys.fernets else "  (KEY MISSING)"
            lookup = f"lookup {lookup_kid}" if lookup_kid else "no lookup hash (passwords)"
            self.stdout.write(f"key {kid} / {lookup}: {n} values{missing}")
