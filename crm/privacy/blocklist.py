"""The block list: people who asked to be erased may not be added again.

An email or phone is kept only as a keyed hash (HMAC-SHA256 of "kind:normalized value"), so the list
itself holds no personal data, and a hash cannot be reversed by hashing guesses without the key. The
key is PRIVACY_HASH_KEY (environment or settings), else derived from SECRET_KEY: changing it makes
every earlier hash unmatchable, so set it once.

The record create services call ``refuse`` (one at a time) or ``errors`` (bulk imports), and the update
services ``refuse`` with ``held`` (the values the record had), so the API, the web forms, bulk actions,
imports (creates and updates), web-to-lead and automation all obey the list. An update is refused only
for a blocked value it adds: a value the record already held is not new personal data. This module
imports no app.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

from django.conf import settings

from crm.core.errors import ValidationFailed

MESSAGE = "This person asked to be erased; they cannot be added again."


def _key() -> bytes:
    key = getattr(settings, "PRIVACY_HASH_KEY", "") or os.environ.get("PRIVACY_HASH_KEY", "")
    if key:
        return key.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"crm.privacy.block-list", hashlib.sha256).digest()


def keyed_hash(kind: str, value: str) -> str:
    """``value`` must be normalized already (crm.core.normalize), as the records store it."""
    return hmac.new(_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def hashes(emails: Iterable[str] = (), phones: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """{hash: (kind, field)} of the non-empty values."""
    out = {keyed_hash("email", e): ("email", "email") for e in emails if e}
    out |= {keyed_hash("phone", p): ("phone", "phone") for p in phones if p}
    return out


def blocked(emails: Iterable[str] = (), phones: Iterable[str] = ()) -> set[str]:
    """The kinds ("email", "phone") among the values that are on the list."""
    from crm.privacy.models import Blocked

    wanted = hashes(emails, phones)
    if not wanted:
        return set()
    found = Blocked.objects.filter(hash__in=list(wanted)).values_list("hash", flat=True)
    return {wanted[h][0] for h in found}


def blocked_emails(addresses: Iterable[str]) -> set[str]:
    """The addresses among ``addresses`` that are on the list, as given: one query for a message's
    participants. Mail sync (crm/mailbox/sync.py) reads a batch's at once and skips a message that
    has a blocked participant, as imports skip them."""
    from crm.privacy.models import Blocked

    by_hash = {keyed_hash("email", a): a for a in addresses if a}
    if not by_hash:
        return set()
    return {by_hash[h] for h in Blocked.objects.filter(hash__in=list(by_hash)).values_list("hash", flat=True)}


def errors(emails: Iterable[str] = (), phones: Iterable[str] = (), *, batch=None) -> dict[str, str]:
    """A field error per blocked kind. ``batch``: an object shared by the items of one bulk call,
    which remembers whether the list is empty (then no item costs a query)."""
    if batch is not None:
        if not hasattr(batch, "_privacy_any_blocked"):
            from crm.privacy.models import Blocked

            batch._privacy_any_blocked = Blocked.objects.exists()
        if not batch._privacy_any_blocked:
            return {}
    return {kind: MESSAGE for kind in sorted(blocked(emails, phones))}


def refuse(emails: Iterable[str] = (), phones: Iterable[str] = (), *, held: Iterable[str] = ()) -> None:
    """Raise ValidationFailed when the email or phone belongs to an erased person. ``held``: the values
    the record had before an update, not checked again."""
    held = set(held)
    found = errors([e for e in emails if e not in held], [p for p in phones if p not in held])
    if found:
        raise ValidationFailed(found, MESSAGE)


def refuse_record(record, person, *, held: Iterable[str] = ()) -> None:
    """For a type declared with a PersonSpec whose lookups are the record's own values (custom
    objects: ``custom_fields__<key>``; or plain attributes). ``held``: record_values before an update."""
    if person is None:
        return
    refuse(
        [v for lookup in person.email_lookups if (v := value_of(record, lookup))],
        [v for lookup in person.phone_lookups if (v := value_of(record, lookup))],
        held=held,
    )


def record_values(record, person) -> set[str]:
    """The emails and phones the record holds now at its person's plain lookups."""
    if person is None:
        return set()
    lookups = (*person.email_lookups, *person.phone_lookups)
    return {v for lookup in lookups if (v := value_of(record, lookup))}


def value_of(record, lookup: str):
    """The record's value at a plain lookup: an attribute or a custom field key (not a relation)."""
    if lookup.startswith("custom_fields__"):
        value = (record.custom_fields or {}).get(lookup.removeprefix("custom_fields__"))
    elif "__" in lookup:
        return None
    else:
        value = getattr(record, lookup, None)
    return value if isinstance(value, str) else None
