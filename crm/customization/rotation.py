"""Key rotation of encrypted custom values: every value moves under the current key (and its hash under
the current lookup key), in the background, without ever overwriting a newer write.

The operator first puts a new key first in ENCRYPTION_KEYS (or `crm encryption new-key`), restarts the
processes, then runs `crm encryption rotate`, which enqueues the job ``encryption.rotate``. The job reads
records in batches and writes each changed record with a compare-and-swap: the UPDATE matches only
while the record's version and the ciphertexts it read are still stored. A record changed meanwhile is
skipped (a service's write seals its values under the current key already, crm/customization/secrets.py)
and the pass is repeated until one finds nothing left on an old key, so no value is left on a key that
is about to be removed. `crm encryption status` counts the values per key id.

Secrets a model holds itself in an ``EncryptedTextField`` (mailbox passwords, users' SMTP passwords) are
rotated in the same passes, found by their field type (``_sealed_columns``): each stale value is
rewritten only while the row still holds the ciphertext read, so a password changed meanwhile is kept.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.apps import apps
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast

from crm.automation import jobs
from crm.core import crypto, recordtypes
from crm.core.fields import EncryptedTextField
from crm.customization import secrets
from crm.customization.models import CustomField

log = logging.getLogger("crm.customization")

JOB_KIND = "encryption.rotate"
BATCH = 500
MAX_PASSES = 20  # each pass after the first only meets what was written during the one before


def _fields_by_type() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for object_type, key in CustomField.objects.filter(encrypted=True).values_list("object_type", "key"):
        out.setdefault(object_type, []).append(key)
    return out


def _stale(values: dict, keys_: list[str], keyset: crypto.KeySet) -> list[str]:
    return [k for k in keys_ if secrets.is_envelope(values.get(k)) and not secrets.is_current(values[k], keyset)]


def rotate_pass(keyset: crypto.KeySet | None = None) -> tuple[int, int]:
    """One pass over every record holding encrypted values: (rewritten, skipped because changed)."""
    keyset = keyset or crypto.keyset()
    rewritten = skipped = 0
    for object_type, keys_ in _fields_by_type().items():
        qs = recordtypes.record_queryset(object_type)
        if qs is None:
            continue
        last = 0
        while batch := list(
            qs.filter(pk__gt=last).order_by("pk").values_list("pk", "version", "custom_fields")[:BATCH]
        ):
            last = batch[-1][0]
            for pk, version, values in batch:
                stale = _stale(values or {}, keys_, keyset)
                if not stale:
                    continue
                if _swap(qs.model, pk, version, values, stale, keyset):
                    rewritten += 1
                else:
                    skipped += 1
    return rewritten, skipped


def _swap(model, pk: int, version: int, values: dict, stale: list[str], keyset: crypto.KeySet) -> bool:
    """Write the record's values re-sealed, only if it still holds what was read (compare-and-swap)."""
    new = dict(values)
    for key in stale:
        new[key] = secrets.envelope(keyset.open(values[key]["c"]), keyset)
    # KeyTransform, not custom_fields__<key>__c: a key such as "contains" would read as a lookup.
    held = {f"held_{i}": KeyTransform("c", KeyTransform(key, "custom_fields")) for i, key in enumerate(stale)}
    read = {f"held_{i}": values[key]["c"] for i, key in enumerate(stale)}
    with transaction.atomic():
        # The version is not bumped: the values are unchanged for anyone editing the record.
        rows = model.objects.filter(pk=pk, version=version).alias(**held).filter(**read)
        return bool(rows.update(custom_fields=new))


def _sealed_columns():
    """(model, field name) of every EncryptedTextField in the installed apps."""
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedTextField):
                yield model, f.name


def _stored(model, name: str):
    """The column's stored text (the ciphertext): a Cast to a plain TextField is not opened on read."""
    return model.objects.alias(stored=Cast(name, output_field=TextField()))


def _sealed_values():
    """(model, field name, pk, sealed text) of every stored EncryptedTextField value."""
    for model, name in _sealed_columns():
        last = 0
        while batch := list(
            _stored(model, name).filter(pk__gt=last).order_by("pk").annotate(raw=Cast(name, TextField()))
            .values_list("pk", "raw")[:BATCH]
        ):  # fmt: skip
            last = batch[-1][0]
            for pk, raw in batch:
                if crypto.is_sealed(raw):
                    yield model, name, pk, raw


def rotate_sealed_pass(keyset: crypto.KeySet) -> tuple[int, int]:
    """One pass over model secrets: (rewritten, skipped because changed since read)."""
    rewritten = skipped = 0
    for model, name, pk, raw in list(_sealed_values()):
        if crypto.split(raw)[0] == keyset.current:
            continue
        fresh = Value(keyset.seal(keyset.open(raw)), output_field=TextField())  # already sealed: not again
        with transaction.atomic():
            if _stored(model, name).filter(pk=pk, stored=raw).update(**{name: fresh}):
                rewritten += 1
            else:
                skipped += 1
    return rewritten, skipped


def rotate(keyset: crypto.KeySet | None = None) -> dict:
    """Passes until one finds no value on an old key (or MAX_PASSES): {"rewritten", "passes", "left"}."""
    keyset, total = keyset or crypto.keyset(), 0
    for n in range(1, MAX_PASSES + 1):
        rewritten, skipped = rotate_pass(keyset)
        sealed_rewritten, sealed_skipped = rotate_sealed_pass(keyset)
        total += rewritten + sealed_rewritten
        if not (rewritten or skipped or sealed_rewritten or sealed_skipped):
            return {"rewritten": total, "passes": n, "left": 0}
    left = sum(n for pair, n in status().items() if _stale_pair(pair, keyset))
    return {"rewritten": total, "passes": MAX_PASSES, "left": left}


def _stale_pair(pair: tuple[str, str], keyset: crypto.KeySet) -> bool:
    kid, lookup_kid = pair
    return kid != keyset.current or (lookup_kid != "" and lookup_kid != keyset.lookup_kid)


def status() -> Counter:
    """{(key id, lookup key id): number of values} over every encrypted custom value, and
    {(key id, ""): number} over model secrets (no lookup hash)."""
    counts: Counter = Counter()
    for _model, _name, _pk, raw in _sealed_values():
        counts[(crypto.split(raw)[0], "")] += 1
    for object_type, keys_ in _fields_by_type().items():
        qs = recordtypes.record_queryset(object_type)
        if qs is None:
            continue
        for values in qs.values_list("custom_fields", flat=True).iterator(chunk_size=BATCH):
            for key in keys_:
                value = (values or {}).get(key)
                if secrets.is_envelope(value):
                    counts[(crypto.split(value["c"])[0], value["h"].split(":", 1)[0])] += 1
    return counts


def sample_per_key() -> dict[str, str]:
    """{key id: one sealed value under it}: what a restore check tries to decrypt."""
    found: dict[str, str] = {}
    for _model, _name, _pk, raw in _sealed_values():
        found.setdefault(crypto.split(raw)[0], raw)
    for object_type, keys_ in _fields_by_type().items():
        qs = recordtypes.record_queryset(object_type)
        if qs is None:
            continue
        for values in qs.values_list("custom_fields", flat=True).iterator(chunk_size=BATCH):
            for key in keys_:
                value = (values or {}).get(key)
                if secrets.is_envelope(value):
                    found.setdefault(crypto.split(value["c"])[0], value["c"])
    return found


def enqueue():
    return jobs.enqueue(JOB_KIND, {}, max_attempts=3)


@jobs.handler(JOB_KIND, atomic=False)  # its writes commit record by record, not with the job's mark
def _run(job) -> None:
    result = rotate()
    log.info("Encryption rotation: %s", result)
    if result["left"]:  # a process still writing with the old key set: try again later
        return jobs.RetryLater(f"{result['left']} values still on an old key")
    return None
